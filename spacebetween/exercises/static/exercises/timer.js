// The timer of a timed exercise (mindful breathing, or a practice's own with a timer question): start,
// pause and reset, counting down from the exercise's suggested length. Without JavaScript the timer
// stays hidden and the client types the minutes by hand, as the page says. The time left is shown,
// not announced: the polite live message speaks only when the time is up, never every second. When
// the client pauses or the time is up, the minutes practised so far fill the minutes question.
(function () {
  "use strict";
  var box = document.getElementById("practice-timer");
  if (!box) { return; }
  var total = parseInt(box.getAttribute("data-minutes"), 10) * 60 * 1000;
  var field = document.getElementById(box.getAttribute("data-field"));
  var shown = document.getElementById("timer-left");
  var message = document.getElementById("timer-message");
  var start = document.getElementById("timer-start");
  var pause = document.getElementById("timer-pause");
  var reset = document.getElementById("timer-reset");
  if (!total || !shown || !message || !start || !pause || !reset) { return; }
  var used = 0;        // milliseconds practised before the current run
  var since = null;    // when the current run began (null while paused)
  var ticking = null;

  function elapsed() { return Math.min(total, used + (since === null ? 0 : Date.now() - since)); }
  function show() {
    var left = Math.ceil((total - elapsed()) / 1000);
    var minutes = Math.floor(left / 60), seconds = left % 60;
    shown.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
  }
  function record() {
    var minutes = Math.ceil(elapsed() / 60000);
    if (field && minutes > 0) { field.value = String(minutes); }
  }
  function buttons(running) {
    start.disabled = running;
    pause.disabled = !running;
  }
  function stop() {
    used = elapsed();
    since = null;
    window.clearInterval(ticking);
    ticking = null;
    buttons(false);
  }
  function tick() {
    show();
    if (elapsed() >= total) {
      stop();
      record();
      start.disabled = true;
      message.textContent = "Time is up: " + (total / 60000) + " minutes. The minutes are filled in below.";
    }
  }
  start.addEventListener("click", function () {
    if (since !== null || elapsed() >= total) { return; }
    since = Date.now();
    message.textContent = "";
    buttons(true);
    ticking = window.setInterval(tick, 250);
    pause.focus();
  });
  pause.addEventListener("click", function () {
    if (since === null) { return; }
    stop();
    show();
    record();
    start.focus();
  });
  reset.addEventListener("click", function () {
    stop();
    used = 0;
    message.textContent = "";
    show();
  });
  box.hidden = false;
  buttons(false);
  show();
})();
