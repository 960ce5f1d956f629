/* Make the header buttons that readers see work.
 *
 * sphinx-book-theme puts its own menu (primary sidebar) and page-contents (secondary sidebar)
 * buttons in the article header, while pydata-sphinx-theme keeps a second, hidden pair in the site
 * header. Both themes' scripts bind their click handlers with document.querySelector, i.e. to the
 * first button of each kind: the hidden one. So the visible buttons did nothing at any width. We
 * forward a click on any other toggle to the bound one, which keeps the themes' behaviour: below
 * 992 px the sidebar opens as a dialog, above it the menu button hides and shows the sidebar.
 */
(() => {
  const ready = (callback) =>
    document.readyState !== "loading"
      ? callback()
      : document.addEventListener("DOMContentLoaded", callback);

  ready(() => {
    for (const kind of ["primary", "secondary"]) {
      const bound = document.querySelector(`.${kind}-toggle`);
      if (!bound) continue;
      for (const button of document.querySelectorAll(`.${kind}-toggle`)) {
        if (button === bound) continue;
        button.setAttribute("aria-label", kind === "primary" ? "Site navigation" : "On this page");
        button.addEventListener("click", (event) => {
          event.preventDefault();
          event.stopPropagation();
          button.blur();
          bound.click();
        });
      }
    }
  });
})();
