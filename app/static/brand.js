// The company's brand colour (--brand) and the text colour chosen to read on it (--brand-text) as CSS
// variables. Loaded in <head> so the header is never drawn in the default colour first; a script file
// because the CSP allows no inline style.
document.documentElement.style.setProperty("--brand", document.currentScript.dataset.brand);
document.documentElement.style.setProperty("--brand-text", document.currentScript.dataset.brandText);
