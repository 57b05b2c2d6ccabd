// The company's brand colour as the --brand CSS variable. Loaded in <head> so the header is never
// drawn in the default colour first; a script file because the CSP allows no inline style.
document.documentElement.style.setProperty("--brand", document.currentScript.dataset.brand);
