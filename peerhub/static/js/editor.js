// The Markdown editor (peerhub/widgets.py): Write and Preview tabs, a formatting toolbar with
// shortcuts, drafts kept in this browser, and @mention suggestions. Each editor is a textarea
// that works on its own; this script only adds to it. The preview is rendered by the server
// (htmx POST to data-preview-url) through the same renderer and sanitiser as what is stored.
(function () {
  "use strict";

  var DRAFT_PREFIX = "peerhub:draft:";
  var SENT_PREFIX = "peerhub:draft-sent:";
  var MAC = /Mac|iPhone|iPad/.test(navigator.platform || "");

  function storage(kind) {
    try {
      var s = window[kind];
      s.setItem("peerhub:probe", "1");
      s.removeItem("peerhub:probe");
      return s;
    } catch (e) {
      return null; // private mode or storage off: no drafts, the editor still works
    }
  }
  var local = storage("localStorage");
  var session = storage("sessionStorage");

  function draftKey(textarea) {
    return DRAFT_PREFIX + location.pathname + "#" + (textarea.id || textarea.name);
  }

  function csrfToken(editor) {
    var form = editor.closest("form");
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // --- Formatting ---------------------------------------------------------------------------

  function replaceSelection(textarea, text, selectFrom, selectTo) {
    var start = textarea.selectionStart;
    textarea.focus();
    textarea.setRangeText(text, start, textarea.selectionEnd, "end");
    if (selectFrom !== undefined) {
      textarea.setSelectionRange(start + selectFrom, start + selectTo);
    }
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function wrap(textarea, before, after, placeholder) {
    var selected = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd);
    var inner = selected || placeholder;
    replaceSelection(textarea, before + inner + after, before.length, before.length + inner.length);
  }

  // Prefix every line the selection touches ("- ", "> ", "### ").
  function prefixLines(textarea, prefix, placeholder) {
    var value = textarea.value;
    var start = value.lastIndexOf("\n", textarea.selectionStart - 1) + 1;
    var end = textarea.selectionEnd;
    var block = value.slice(start, end) || placeholder;
    var lines = block.split("\n").map(function (line) {
      return line.indexOf(prefix) === 0 ? line : prefix + line;
    });
    textarea.setSelectionRange(start, end);
    var text = lines.join("\n");
    replaceSelection(textarea, text, prefix.length, text.length);
  }

  function onOwnLine(textarea, block) {
    var value = textarea.value;
    var before = value.slice(0, textarea.selectionStart);
    var lead = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
    return lead + block + "\n";
  }

  var ACTIONS = {
    bold: function (t) { wrap(t, "**", "**", "bold text"); },
    italic: function (t) { wrap(t, "_", "_", "italic text"); },
    heading: function (t) { prefixLines(t, "### ", "Heading"); },
    quote: function (t) { prefixLines(t, "> ", "Quote"); },
    list: function (t) { prefixLines(t, "- ", "Item"); },
    code: function (t) {
      var selected = t.value.slice(t.selectionStart, t.selectionEnd);
      if (selected.indexOf("\n") >= 0) wrap(t, "```\n", "\n```", "");
      else wrap(t, "`", "`", "code");
    },
    link: function (t) {
      var selected = t.value.slice(t.selectionStart, t.selectionEnd);
      if (/^https?:\/\/\S+$/.test(selected)) {
        replaceSelection(t, "[link text](" + selected + ")", 1, 10);
      } else {
        var text = "[" + (selected || "link text") + "](https://)";
        var url = text.length - 9;
        replaceSelection(t, text, url, url + 8);
      }
    },
    table: function (t) {
      var table = "| Column | Column |\n| --- | --- |\n| Cell | Cell |";
      var text = onOwnLine(t, table);
      var first = text.indexOf("Column");
      replaceSelection(t, text, first, first + 6);
    },
  };

  // --- One editor ---------------------------------------------------------------------------

  function setup(editor) {
    if (editor.dataset.mdReady) return;
    editor.dataset.mdReady = "1";
    var textarea = editor.querySelector("textarea");
    var bar = editor.querySelector(".md-bar");
    var tabs = Array.prototype.slice.call(editor.querySelectorAll("[role=tab]"));
    var writePanel = editor.querySelector(".md-write");
    var previewPanel = editor.querySelector(".md-preview");
    var tools = Array.prototype.slice.call(editor.querySelectorAll(".md-tool"));
    // Said through the page's one live region (site.js), not a region of the editor's own.
    var status = {
      set textContent(text) {
        if (window.peerhubAnnounce) window.peerhubAnnounce(text);
      },
    };

    bar.hidden = false;
    writePanel.setAttribute("role", "tabpanel");
    writePanel.setAttribute("aria-labelledby", tabs[0].id);
    previewPanel.setAttribute("role", "tabpanel");
    previewPanel.setAttribute("aria-labelledby", tabs[1].id);
    previewPanel.tabIndex = 0;

    // Tabs (WAI-ARIA tabs pattern: arrows move and activate, one tab stop).
    function select(tab, focus) {
      tabs.forEach(function (other) {
        var on = other === tab;
        other.setAttribute("aria-selected", on ? "true" : "false");
        other.tabIndex = on ? 0 : -1;
      });
      var preview = tab === tabs[1];
      writePanel.hidden = preview;
      previewPanel.hidden = !preview;
      editor.classList.toggle("md-previewing", preview);
      tools.forEach(function (tool) { tool.disabled = preview; });
      if (focus) tab.focus();
      if (preview) showPreview();
    }
    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () { select(tab, false); });
      tab.addEventListener("keydown", function (event) {
        var next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        select(tabs[(next + tabs.length) % tabs.length], true);
      });
    });

    function showPreview() {
      previewPanel.setAttribute("aria-busy", "true");
      previewPanel.textContent = "Loading preview…";
      htmx
        .ajax("POST", editor.dataset.previewUrl, {
          source: tabs[1],
          target: previewPanel,
          swap: "innerHTML",
          values: { text: textarea.value },
          headers: { "X-CSRFToken": csrfToken(editor) },
        })
        .then(function () { previewPanel.removeAttribute("aria-busy"); });
    }

    // Toolbar (WAI-ARIA toolbar pattern: one tab stop, arrows move between buttons).
    tools.forEach(function (tool, i) {
      tool.tabIndex = i === 0 ? 0 : -1;
      tool.addEventListener("click", function () {
        ACTIONS[tool.dataset.mdAction](textarea);
      });
      tool.addEventListener("keydown", function (event) {
        var next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tools.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        var target = tools[(next + tools.length) % tools.length];
        tools.forEach(function (other) { other.tabIndex = other === target ? 0 : -1; });
        target.focus();
      });
    });
    if (MAC) {
      tools.forEach(function (tool) {
        var label = tool.getAttribute("aria-label").replace("Ctrl+", "⌘");
        tool.setAttribute("aria-label", label);
        tool.title = label;
      });
    }

    // Shortcuts: Ctrl/Cmd + B, I, K.
    textarea.addEventListener("keydown", function (event) {
      if (mentions.handleKey(event)) return;
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
      var action = { b: "bold", i: "italic", k: "link" }[event.key.toLowerCase()];
      if (!action) return;
      event.preventDefault();
      ACTIONS[action](textarea);
    });

    drafts(editor, textarea);
    var mentions = mentionSuggestions(editor, textarea, status);
  }

  // --- Drafts -------------------------------------------------------------------------------
  // Kept per page and field while typing; offered back (with a notice and a discard button)
  // when the page is opened again with different text. Sending the form marks the draft; the
  // next page tells whether it went through: no editor for it there (a redirect after
  // success), or its editor empty again (htmx re-rendered a fresh form), and the draft goes.

  function drafts(editor, textarea) {
    if (!local) return;
    var key = draftKey(textarea);
    var notice = editor.querySelector(".md-draft");
    var original = textarea.value;
    var sentKey = SENT_PREFIX + key;

    if (session && session.getItem(sentKey) !== null) {
      session.removeItem(sentKey);
      if (textarea.value !== local.getItem(key)) local.removeItem(key);
    }
    var saved = local.getItem(key);
    if (saved !== null && saved.trim() && saved !== textarea.value) {
      textarea.value = saved;
      notice.hidden = false;
    } else if (saved !== null && saved === textarea.value) {
      local.removeItem(key); // nothing unsent: the page already shows it
    }
    notice.querySelector(".md-draft-discard").addEventListener("click", function () {
      local.removeItem(key);
      textarea.value = original;
      notice.hidden = true;
      textarea.focus();
    });

    var timer = null;
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (textarea.value.trim() && textarea.value !== original) local.setItem(key, textarea.value);
        else local.removeItem(key);
      }, 300);
    });
    var form = textarea.form;
    if (form) {
      form.addEventListener("submit", function () {
        clearTimeout(timer);
        if (textarea.value.trim() && textarea.value !== original) local.setItem(key, textarea.value);
        if (form.hasAttribute("hx-post")) {
          form.mdDraftKeys = (form.mdDraftKeys || []).concat([key]);
        } else if (session) {
          session.setItem(sentKey, "1");
        }
      });
    }
  }

  // An htmx form answers with the re-rendered part of the page: an error shows as an alert in
  // it (the draft then comes back in the fresh editor), anything else means the text is stored.
  document.addEventListener("htmx:beforeSwap", function (event) {
    // detail.elt is the swap's target; the form that asked is the request's element.
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!local || !form || !form.mdDraftKeys) return;
    var failed = !event.detail.xhr || event.detail.xhr.status >= 400 ||
      /role="alert"/.test(event.detail.xhr.responseText || "");
    if (!failed) form.mdDraftKeys.forEach(function (key) { local.removeItem(key); });
    form.mdDraftKeys = [];
  });

  function settleSentDrafts() {
    // Drafts sent from a form this page does not show any more: the send went through.
    if (!session || !local) return;
    var onPage = {};
    document.querySelectorAll("[data-md-editor] textarea").forEach(function (t) {
      onPage[draftKey(t)] = true;
    });
    for (var i = session.length - 1; i >= 0; i--) {
      var sentKey = session.key(i);
      if (!sentKey || sentKey.indexOf(SENT_PREFIX) !== 0) continue;
      var key = sentKey.slice(SENT_PREFIX.length);
      if (!onPage[key]) {
        local.removeItem(key);
        session.removeItem(sentKey);
      }
    }
  }

  // --- @mentions ----------------------------------------------------------------------------
  // WAI-ARIA combobox on the textarea: typing "@name" asks the server for members who may see
  // what is written about; arrows choose, Enter or Tab inserts, Escape closes.

  function mentionSuggestions(editor, textarea, status) {
    var url = editor.dataset.mentionsUrl;
    var list = editor.querySelector(".md-mentions");
    var none = { handleKey: function () { return false; } };
    if (!url) return none;
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", list.id);
    var members = [], active = -1, fragment = null, timer = null, asked = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      members = [];
      active = -1;
      textarea.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) textarea.setAttribute("aria-activedescendant", list.children[index].id);
    }

    function fragmentAtCaret() {
      var upto = textarea.value.slice(0, textarea.selectionStart);
      var match = upto.match(/(^|[^\p{L}\p{N}_@./+-])@([\p{L}\p{M}\p{N}_.+-]{0,30})$/u);
      if (!match || textarea.selectionStart !== textarea.selectionEnd) return null;
      return { start: upto.length - match[2].length - 1, query: match[2] };
    }

    function show(found) {
      members = found;
      list.textContent = "";
      if (!found.length) {
        close();
        status.textContent = "No member to suggest.";
        return;
      }
      found.forEach(function (member, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.className = "md-mention";
        var name = document.createElement("strong");
        name.textContent = "@" + member.username;
        li.appendChild(name);
        if (member.name && member.name !== member.username) {
          var display = document.createElement("span");
          display.textContent = " " + member.name;
          li.appendChild(display);
        }
        li.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the textarea
          choose(i);
        });
        list.appendChild(li);
      });
      list.hidden = false;
      highlight(0);
      status.textContent =
        found.length + (found.length === 1 ? " member" : " members") + " to mention: arrows choose, Enter inserts.";
    }

    function choose(index) {
      var member = members[index];
      if (!member || !fragment) return;
      textarea.setSelectionRange(fragment.start, textarea.selectionStart);
      replaceSelection(textarea, "@" + member.username + " ");
      close();
    }

    textarea.addEventListener("input", function () {
      fragment = fragmentAtCaret();
      clearTimeout(timer);
      if (!fragment) return close();
      var ticket = ++asked;
      timer = setTimeout(function () {
        var sep = url.indexOf("?") >= 0 ? "&" : "?";
        fetch(url + sep + "q=" + encodeURIComponent(fragment.query), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (found) { if (ticket === asked && fragment) show(found); })
          .catch(close);
      }, 150);
    });
    textarea.addEventListener("blur", close);

    return {
      handleKey: function (event) {
        if (list.hidden || !members.length) return false;
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          var step = event.key === "ArrowDown" ? 1 : -1;
          highlight((active + step + members.length) % members.length);
          return true;
        }
        if (event.key === "Enter" || event.key === "Tab") {
          event.preventDefault();
          choose(active);
          return true;
        }
        if (event.key === "Escape") {
          event.preventDefault();
          close();
          return true;
        }
        return false;
      },
    };
  }

  // --- Start --------------------------------------------------------------------------------

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-md-editor]").forEach(setup);
    if (root.matches && root.matches("[data-md-editor]")) setup(root);
  }
  function start() {
    init(document);
    settleSentDrafts();
    // Editors that htmx swaps in (a comment thread re-rendered, a reply form).
    document.body.addEventListener("htmx:load", function (event) { init(event.target); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
