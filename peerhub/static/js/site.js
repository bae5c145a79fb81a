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
