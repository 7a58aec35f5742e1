// Reads a JSON list of HTML strings on stdin; prints each one as sanitize-html (defaults) and DOMPurify
// (defaults, on a jsdom window) leave it: {"sanitize-html": [...], "dompurify": [...]}.
import { readFileSync } from "node:fs";
import sanitizeHtml from "sanitize-html";
import createDOMPurify from "dompurify";
import { JSDOM } from "jsdom";

const inputs = JSON.parse(readFileSync(0, "utf8"));
const purify = createDOMPurify(new JSDOM("").window);
process.stdout.write(JSON.stringify({
  "sanitize-html": inputs.map((html) => sanitizeHtml(html)),
  "dompurify": inputs.map((html) => purify.sanitize(html)),
}));
