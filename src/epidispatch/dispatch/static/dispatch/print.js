// The bulletin's print button: the browser's print dialog, with the print layout of bulletin.css.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
