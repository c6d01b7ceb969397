// `npm run vendor`: minifies jsQR (npm package jsqr, pinned in package.json) into
// static/js/vendor/jsQR.min.js, its licence kept in the header and beside it. The output is
// committed: the camera scan's fallback decoder, loaded by static/js/qr-scan.js only where
// the browser has no BarcodeDetector. Run it again after changing jsqr's version.
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { minify } from "terser";

const require = createRequire(import.meta.url);
const root = new URL("..", import.meta.url).pathname;
const pkg = require(root + "node_modules/jsqr/package.json");
const source = readFileSync(root + "node_modules/jsqr/dist/jsQR.js", "utf8");
const header =
  `/*! jsQR ${pkg.version} (npm package jsqr), https://github.com/cozmo/jsQR\n` +
  ` * Licence: ${pkg.license}, its full text in jsQR.LICENSE.txt beside this file.\n` +
  ` * Minified by \`npm run vendor\` (scripts/vendor_js.mjs). */`;
const out = await minify(source, { compress: true, mangle: true, format: { preamble: header } });
mkdirSync(root + "static/js/vendor", { recursive: true });
writeFileSync(root + "static/js/vendor/jsQR.min.js", out.code + "\n");
copyFileSync(root + "node_modules/jsqr/LICENSE", root + "static/js/vendor/jsQR.LICENSE.txt");
console.log(`static/js/vendor/jsQR.min.js: ${out.code.length} bytes`);
