// PeerHub's own script, small on purpose: the pages work without it.
//
// Irreversible actions ask first. A form with data-confirm="Question?" (or a submit button
// with its own data-confirm) is sent only when the member answers yes in the browser's
// dialog, which is keyboard accessible. It listens in the capture phase, before htmx, so it
// guards plain forms and htmx forms alike; without JavaScript the server asks on a page of its
// own (peerhub/confirm.py) before it acts.
document.addEventListener(
  "submit",
  function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var button = event.submitter;
    var question =
      (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (!question) return;
    if (!window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    // Answered here: the server's own confirmation page (for browsers without JavaScript,
    // peerhub/confirm.py) is not needed.
    if (!form.querySelector('input[name="confirmed"]')) {
      var confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirmed";
      confirmed.value = "yes";
      form.appendChild(confirmed);
    }
  },
  true
);

// The header's menu on phones. The page marks itself with the class "js" before it is drawn, and
// site.css then folds the menus this button controls (the main navigation and the account links)
// below 860 px; without JavaScript they stay open. Escape closes them and gives the focus back.
(function () {
  var button = document.querySelector(".menu-toggle");
  if (!button) return;
  var menus = button
    .getAttribute("aria-controls")
    .split(" ")
    .map(function (id) {
      return document.getElementById(id);
    })
    .filter(Boolean);
  function set(open) {
    button.setAttribute("aria-expanded", String(open));
    menus.forEach(function (menu) {
      menu.classList.toggle("is-open", open);
    });
  }
  button.addEventListener("click", function () {
    set(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      set(false);
      button.focus();
    }
  });
})();

// Lineage trees (templates/challenges/_lineage_viewer.html): the box scrolls natively (swipe,
// wheel, scrollbars, and the arrow keys once it or a box inside has the focus); on top of that a
// mouse drags it, Ctrl+wheel and a two-finger pinch zoom around the pointer, + and − zoom from
// the keyboard, 0 resets, and so do the buttons. Zooming resizes the SVG (its viewBox keeps the
// drawing sharp). A focused box shows its full title, which the drawing may have cut.
(function () {
  var MIN = 0.3;
  var MAX = 3;
  var STEP = 1.25;

  // Right to left (Arabic), the drawing is mirrored (challenges.lineage_svg): its root is at the
  // right. The box itself scrolls left to right in both directions (site.css), so the arithmetic
  // below holds; "the start" is its right end.
  var rtl = document.documentElement.dir === "rtl";

  function setUp(viewer) {
    var box = viewer.querySelector(".lineage-scroll");
    var svg = box && box.querySelector("svg");
    if (!svg) return;
    var width = parseFloat(svg.getAttribute("width"));
    var height = parseFloat(svg.getAttribute("height"));
    var scale = 1;
    var tip = document.createElement("div");
    tip.className = "lineage-tip";
    tip.setAttribute("aria-hidden", "true");
    tip.hidden = true;
    viewer.appendChild(tip);

    // Zoom to `to`, keeping the drawing's point under (x, y) (box coordinates) where it was.
    function zoom(to, x, y) {
      to = Math.min(MAX, Math.max(MIN, to));
      if (x === undefined) {
        x = box.clientWidth / 2;
        y = box.clientHeight / 2;
      }
      var pointX = (box.scrollLeft + x) / scale;
      var pointY = (box.scrollTop + y) / scale;
      scale = to;
      svg.setAttribute("width", String(Math.round(width * scale)));
      svg.setAttribute("height", String(Math.round(height * scale)));
      box.scrollLeft = pointX * scale - x;
      box.scrollTop = pointY * scale - y;
      viewer.setAttribute("data-zoom", String(Math.round(scale * 100)));
      placeTip();
    }
    function boxPoint(clientX, clientY) {
      var rect = box.getBoundingClientRect();
      return [clientX - rect.left, clientY - rect.top];
    }

    viewer.querySelectorAll("[data-lineage-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.getAttribute("data-lineage-zoom");
        if (how === "reset") {
          zoom(1);
          box.scrollLeft = rtl ? box.scrollWidth : 0;
          box.scrollTop = 0;
        } else {
          zoom(how === "in" ? scale * STEP : scale / STEP);
        }
      });
    });

    box.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "+" || event.key === "=") zoom(scale * STEP);
      else if (event.key === "-" || event.key === "_") zoom(scale / STEP);
      else if (event.key === "0") {
        zoom(1);
      } else return;
      event.preventDefault();
    });

    box.addEventListener(
      "wheel",
      function (event) {
        if (!event.ctrlKey && !event.metaKey) return; // a plain wheel scrolls
        event.preventDefault();
        var point = boxPoint(event.clientX, event.clientY);
        zoom(scale * Math.pow(1.0015, -event.deltaY), point[0], point[1]);
      },
      { passive: false }
    );

    // A mouse or pen drags the drawing; a drag that moved does not also open the box under it.
    // Touch pans natively; two fingers pinch.
    var drag = null;
    var moved = false;
    var touches = new Map();
    var pinch = null;
    box.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "touch") {
        touches.set(event.pointerId, [event.clientX, event.clientY]);
        if (touches.size === 2) {
          var p = Array.from(touches.values());
          pinch = { distance: Math.hypot(p[0][0] - p[1][0], p[0][1] - p[1][1]), scale: scale };
        }
        return;
      }
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, left: box.scrollLeft, top: box.scrollTop };
      moved = false;
    });
    box.addEventListener("pointermove", function (event) {
      if (event.pointerType === "touch") {
        if (!touches.has(event.pointerId)) return;
        touches.set(event.pointerId, [event.clientX, event.clientY]);
        if (pinch && touches.size === 2) {
          var p = Array.from(touches.values());
          var distance = Math.hypot(p[0][0] - p[1][0], p[0][1] - p[1][1]);
          var mid = boxPoint((p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2);
          if (pinch.distance > 0) zoom((pinch.scale * distance) / pinch.distance, mid[0], mid[1]);
        }
        return;
      }
      if (!drag) return;
      var dx = event.clientX - drag.x;
      var dy = event.clientY - drag.y;
      if (!moved && Math.abs(dx) + Math.abs(dy) < 5) return;
      if (!moved) {
        moved = true;
        box.setPointerCapture(event.pointerId);
        box.classList.add("is-dragging");
      }
      box.scrollLeft = drag.left - dx;
      box.scrollTop = drag.top - dy;
    });
    function end(event) {
      touches.delete(event.pointerId);
      if (touches.size < 2) pinch = null;
      if (drag && event.pointerType !== "touch") {
        drag = null;
        box.classList.remove("is-dragging");
      }
    }
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", end);
    box.addEventListener(
      "click",
      function (event) {
        if (moved) {
          event.preventDefault();
          event.stopPropagation();
          moved = false;
        }
      },
      true
    );
    box.addEventListener("dragstart", function (event) {
      event.preventDefault();
    });

    // The full title of the focused box, under it (it follows the box as the drawing moves).
    var focused = null;
    function placeTip() {
      if (!focused) {
        tip.hidden = true;
        return;
      }
      tip.hidden = false;
      var rect = focused.getBoundingClientRect();
      var frame = viewer.getBoundingClientRect();
      var start = rtl ? rect.right - frame.left - tip.offsetWidth : rect.left - frame.left;
      var left = Math.max(0, Math.min(start, frame.width - tip.offsetWidth));
      tip.style.left = left + "px";
      tip.style.top = rect.bottom - frame.top + 4 + "px";
    }
    box.addEventListener("focusin", function (event) {
      var node = event.target.closest && event.target.closest("a");
      var title = node && node.querySelector("title");
      focused = title ? node : null;
      if (title) tip.textContent = title.textContent;
      placeTip();
    });
    box.addEventListener("focusout", function () {
      focused = null;
      placeTip();
    });
    box.addEventListener("scroll", placeTip);

    // The highlighted solution starts in sight.
    var current = svg.querySelector(".lineage-node.current");
    if (current) {
      var rect = current.getBoundingClientRect();
      var frame = box.getBoundingClientRect();
      box.scrollLeft += rect.left - frame.left - (box.clientWidth - rect.width) / 2;
      box.scrollTop += rect.top - frame.top - (box.clientHeight - rect.height) / 2;
    } else if (rtl) {
      box.scrollLeft = box.scrollWidth;
    }
  }

  document.querySelectorAll(".lineage-viewer").forEach(setUp);
})();

// Code blocks and Markdown tables too wide for a phone scroll sideways in their own box
// (site.css); those that do are made focusable so a keyboard can scroll them too.
(function () {
  document.querySelectorAll("pre, .prose table").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
    }
  });
})();

// Status messages go to the page's one polite live region (#site-status, base.html), which screen
// readers follow: an htmx response names its message in an HX-Trigger event (peerhub.announce),
// written into the region's hidden line (the messages a full page brings are shown in the region
// itself). The line is emptied first, so that the same message twice is read twice.
(function () {
  var region = document.querySelector("#site-status [data-said]");
  if (!region) return;
  var pending = null;
  function say(text) {
    text = (text || "").replace(/\s+/g, " ").trim();
    if (!text) return;
    region.textContent = "";
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      region.textContent = text;
    }, 100);
  }
  window.peerhubAnnounce = say;
  document.addEventListener("peerhub:status", function (event) {
    say(event.detail && event.detail.message);
  });
})();

// After an htmx swap the focus stays where the member was: when the focused control was inside
// the part replaced (a vote, follow, back or sign button, a comment form), it goes to the same
// control in the new part (the same id, field name or button text, else the one at the same place
// among its focusable elements), else to the new part itself, never back to the page's <body>.
(function () {
  var FOCUSABLE =
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), " +
    "select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";
  // One entry per part being swapped, keyed by its id: another swap settling meanwhile (the bell
  // polls on its own) neither drops nor takes this one.
  var pending = {};

  function restore(was) {
    var part = document.getElementById(was.targetId);
    if (!part) return;
    var next = (was.id && document.getElementById(was.id)) || null;
    if (!next && was.name) next = part.querySelector("[name='" + CSS.escape(was.name) + "']");
    var inside = part.querySelectorAll(FOCUSABLE);
    if (!next && was.text) {
      next =
        Array.prototype.find.call(inside, function (el) {
          return el.tagName === "BUTTON" && el.textContent.trim() === was.text;
        }) || null;
    }
    if (!next) {
      next = inside[Math.min(Math.max(was.index, 0), inside.length - 1)] || null;
    }
    if (!next) {
      if (!part.hasAttribute("tabindex")) part.setAttribute("tabindex", "-1");
      next = part;
    }
    next.focus();
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    if (!target || !target.id || !active || active === document.body) return;
    if (!target.contains(active)) return;
    var inside = Array.prototype.slice.call(target.querySelectorAll(FOCUSABLE));
    pending[target.id] = {
      targetId: target.id,
      id: active.id,
      name: active.tagName !== "BUTTON" && active.getAttribute("name"),
      text: active.tagName === "BUTTON" && active.textContent.trim(),
      index: inside.indexOf(active),
      element: active,
    };
  });

  document.addEventListener("htmx:afterSettle", function () {
    Object.keys(pending).forEach(function (targetId) {
      var was = pending[targetId];
      var active = document.activeElement;
      var lost = !active || active === document.body || !document.contains(active);
      // The control is still in the page: that part's swap has not happened yet, or kept it.
      if (!lost && active === was.element) return;
      delete pending[targetId];
      if (lost) restore(was);
    });
  });
})();

// The reader's time zone (issue 22, peerhub/locales.py): the browser knows it, the server does
// not. A visitor's pages show times in the zone this cookie names from the next page on; a
// member's own setting wins over it, and a new member starts with it.
(function () {
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) return;
  if (document.cookie.split("; ").indexOf("tz=" + zone) !== -1) return;
  var secure = location.protocol === "https:" ? "; secure" : "";
  document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax" + secure;
})();

// Deadlines count down (issue 22). The server writes "(3 days from now)" in the reader's language
// when it draws the page; a page kept open, or served from the page cache, would go stale, so
// each minute the script words it again with the browser's Intl.RelativeTimeFormat in the page's
// language, in its largest whole unit as the server does ("in 2 hours", then "in 59 minutes").
(function () {
  var spans = document.querySelectorAll("[data-countdown]");
  if (!spans.length || !window.Intl || !Intl.RelativeTimeFormat) return;
  var format;
  try {
    format = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined);
  } catch (error) {
    return;
  }
  var units = [
    ["year", 31536000],
    ["month", 2592000],
    ["week", 604800],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1],
  ];
  function word(seconds) {
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1] || units[i][0] === "second") {
        return format.format(Math.trunc(seconds / units[i][1]), units[i][0]);
      }
    }
  }
  function tick() {
    spans.forEach(function (span) {
      var at = Date.parse(span.getAttribute("data-countdown"));
      if (!isNaN(at)) span.textContent = "(" + word((at - Date.now()) / 1000) + ")";
    });
  }
  tick();
  setInterval(tick, 60000);
})();
