// Saves the draft of a session note a few seconds after the therapist stops typing, so that nothing
// is lost when the page is closed. Without JavaScript the "Save draft" button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var text = form.querySelector("textarea[name=body]");
  var status = document.getElementById("autosave-status");
  var timer = null;
  var saved = text.value;
  function save() {
    if (text.value === saved) { return; }
    var data = new FormData(form);
    data.set("action", "save");
    data.set("autosave", "1");
    var sending = text.value;
    status.textContent = "Saving draft…";
    // form.action would be the buttons named "action": the form posts to its own page.
    fetch(window.location.href, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 204) {
          saved = sending;
          status.textContent = "Draft saved " + new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + ".";
        } else {
          status.textContent = "The draft could not be saved automatically; use Save draft.";
        }
      })
      .catch(function () { status.textContent = "Offline: the draft is not saved yet; use Save draft."; });
  }
  text.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(save, 3000);
  });
})();
