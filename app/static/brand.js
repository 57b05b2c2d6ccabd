// The company's brand colour (--brand), the text colour chosen to read on it (--brand-text) and the links'
// colour (the brand's where it reads as text on the page, else a dark blue: Bootstrap 5.3 reads it as "r, g, b")
// as CSS variables. Loaded in <head> so the header is never drawn in the default colour first; a script file
// because the CSP allows no inline style.
{
  const data = document.currentScript.dataset, root = document.documentElement.style;
  const rgb = [1, 3, 5].map((i) => parseInt(data.brandLink.slice(i, i + 2), 16)).join(", ");
  root.setProperty("--brand", data.brand);
  root.setProperty("--brand-text", data.brandText);
  root.setProperty("--brand-link", data.brandLink);
  root.setProperty("--bs-link-color-rgb", rgb);
  root.setProperty("--bs-link-hover-color-rgb", rgb);
}
