// The page's pure parts: settings, debounce, reading a visitor's file, and the tokenization rule
// (against the ids Python's TextEncoder gives, written by tests/engine_fixtures.py).
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { debounce } from "../src/debounce";
import { chooseThreads, DEFAULTS, fromAttributes, fromQuery } from "../src/settings";
import { columnTexts, parseTable, suggestColumn } from "../src/table";
import { TextTokenizer } from "../src/tasks/text/tokenize";
import type { TokenizerSpec } from "../src/types";
import { json } from "./fixtures";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

test("settings: URL parameters, with defaults for what is missing or malformed", () => {
  assert.deepEqual(fromQuery("?model=sentiment&variant=fp32&threads=2"), {
    ...DEFAULTS, model: "sentiment", variant: "fp32", threads: 2,
  });
  assert.deepEqual(fromQuery(""), DEFAULTS);
  for (const bad of ["0", "-1", "1.5", "two", ""]) assert.equal(fromQuery(`?threads=${bad}`).threads, null, bad);
});

test("settings: element attributes", () => {
  const attributes: Record<string, string> = { model: "models/x/", label: "Mood?", threads: "3" };
  const settings = fromAttributes({ getAttribute: (name) => attributes[name] ?? null });
  assert.equal(settings.model, "models/x/");
  assert.equal(settings.label, "Mood?");
  assert.equal(settings.placeholder, DEFAULTS.placeholder);
  assert.equal(settings.threads, 3);
});

test("chooseThreads: the asked number wins; else up to 4 when isolated, else 1", () => {
  assert.equal(chooseThreads(3, false, 2), 3);
  assert.equal(chooseThreads(null, true, 2), 2);
  assert.equal(chooseThreads(null, true, 16), 4);
  assert.equal(chooseThreads(null, true, 0), 1);
  assert.equal(chooseThreads(null, false, 16), 1);
});

test("debounce: one call with the latest value once typing stops", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const seen: string[] = [];
    const typed = debounce((text: string) => seen.push(text), 150);
    typed("h");
    mock.timers.tick(100);
    typed("he");
    mock.timers.tick(149);
    assert.deepEqual(seen, []);
    mock.timers.tick(1);
    assert.deepEqual(seen, ["he"]);
    typed("hey");
    mock.timers.tick(150);
    assert.deepEqual(seen, ["he", "hey"]);
  } finally {
    mock.timers.reset();
  }
});

test("CSV: quoted commas, quotes and line breaks, a BOM, CRLF, short rows", () => {
  const csv = '\ufefftext,label\r\n"hello, world",pos\r\n"she said ""hi""\nthen left",neg\r\nalone\r\n';
  const table = parseTable("reviews.csv", utf8(csv));
  assert.deepEqual(table.columns, ["text", "label"]);
  assert.deepEqual(table.rows, [["hello, world", "pos"], ['she said "hi"\nthen left', "neg"], ["alone", undefined]]);
  assert.equal(suggestColumn(table), "text");
});

test("TSV, TXT and JSONL read into columns; empty cells are skipped and counted", () => {
  assert.deepEqual(parseTable("a.tsv", utf8("id\tbody\n1\tfine\n2\t\n")).rows, [["1", "fine"], ["2", ""]]);
  const txt = parseTable("a.txt", utf8("first line\nsecond line\n"));
  assert.deepEqual(columnTexts(txt, txt.columns[0]).texts, ["first line", "second line"]);
  const jsonl = parseTable("a.jsonl", utf8('{"text": "one", "n": 1}\n{"n": 2}\n{"text": "three"}\n'));
  const column = columnTexts(jsonl, "text");
  assert.deepEqual([column.rows, column.texts, column.skipped], [[1, 3], ["one", "three"], 1]);
});

test("a file the page cannot read says so", () => {
  assert.throws(() => parseTable("a.pdf", utf8("x")), /not a file type the page reads/);
  assert.throws(() => parseTable("a.csv", utf8("")), /no rows to score/);
  assert.throws(() => columnTexts(parseTable("a.csv", utf8("a,b\n1,2\n")), "text"), /no column "text"/);
});

interface TokenizeCase {
  spec: TokenizerSpec;
  max_length: number;
  texts: string[];
  ids: number[][];
  batch: { input_ids: number[][]; attention_mask: number[][] };
}

test("tokenization rule: the same ids as Python (truncation, special tokens, final sigma, padding)", () => {
  const c = json<TokenizeCase>("tokenize.json");
  const tokenizer = new TextTokenizer(json<object>("tokenizer.json"), c.spec, c.max_length);
  c.texts.forEach((text, i) => assert.deepEqual(tokenizer.encode(text), c.ids[i], JSON.stringify(text)));
  const batch = tokenizer.numbers(c.texts.slice(0, 4));
  const rows = c.batch.input_ids.length;
  const width = c.batch.input_ids[0].length;
  assert.deepEqual(batch.dims, [rows, width]);
  assert.deepEqual(Array.from(batch.inputIds), c.batch.input_ids.flat());
  assert.deepEqual(Array.from(batch.attentionMask), c.batch.attention_mask.flat());
});
