// Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can
// forbid inline scripts and style attributes.
document.addEventListener("DOMContentLoaded", () => {
  // The language switch submits as soon as a language is picked.
  for (const select of document.querySelectorAll("select[data-submit-on-change]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // Bars and meters carry their width as data-width (percent); CSSOM writes are allowed.
  for (const bar of document.querySelectorAll("[data-width]")) {
    bar.style.width = `${Math.max(0, Math.min(100, Number(bar.dataset.width) || 0))}%`;
  }
});
