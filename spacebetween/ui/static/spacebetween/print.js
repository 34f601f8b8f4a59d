// Print buttons (data-print): shown only when this script runs, since without it they would do nothing.
// A file rather than inline script: the Content-Security-Policy allows scripts from 'self' only.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
