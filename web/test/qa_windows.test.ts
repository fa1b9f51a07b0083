// The question-answering page's windows for byte-level BPE tokenizers (RoBERTa's kind) against
// Python's (the tokenizers library's pair truncation and offsets): tests/qa_bpe_windows.py trains
// small byte-level BPE tokenizers (RoBERTa's settings, a prefix space, untrimmed offsets) and writes
// the windows Python makes for hard passages; the page's QaTokenizer must make the same ids and the
// same character spans (UTF-16 offsets) in every window.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { findComponent, passageTypeId, QaTokenizer, type PairLayout } from "../src/tasks/qa/windows";

interface Case {
  question: string;
  context: string;
  windows: Array<{ ids: number[]; type_ids: number[]; spans: Array<[number, number] | null> }>;
}

const root = process.env.STATICML_ROOT ?? join(process.cwd(), "..");
const venv = join(root, ".venv", "bin", "python");
const python = process.env.STATICML_PYTHON ?? (existsSync(venv) ? venv : "python3");
const work = mkdtempSync(join(tmpdir(), "staticml-qa-windows-"));
execFileSync(python, [join(root, "tests", "qa_bpe_windows.py"), work], { stdio: "inherit" });
after(() => rmSync(work, { recursive: true, force: true }));

for (const variant of ["roberta", "prefix-space", "untrimmed"]) {
  test(`byte-level BPE (${variant}): the page's windows are Python's, ids and character spans`, () => {
    const tokenizerJson = JSON.parse(readFileSync(join(work, `${variant}.tokenizer.json`), "utf8"));
    const expected = JSON.parse(readFileSync(join(work, `${variant}.windows.json`), "utf8")) as {
      max_length: number; stride: number; layout: PairLayout; cases: Case[];
    };
    const tokenizer = new QaTokenizer(tokenizerJson, "<unk>", expected.layout);
    let windows = 0;
    for (const [i, c] of expected.cases.entries()) {
      const got = tokenizer.windows(c.question, c.context, expected.max_length, expected.stride);
      assert.equal(got.length, c.windows.length, `case ${i}: window count`);
      got.forEach((w, k) => {
        assert.deepEqual(w.ids, c.windows[k].ids, `case ${i} window ${k}: ids`);
        assert.deepEqual(w.typeIds, c.windows[k].type_ids, `case ${i} window ${k}: token type ids`);
        assert.deepEqual(w.spans, c.windows[k].spans, `case ${i} window ${k}: spans of ${JSON.stringify(c.context.slice(0, 60))}`);
      });
      windows += got.length;
    }
    assert.ok(expected.cases.length >= 100 && windows > expected.cases.length, `${expected.cases.length} cases, ${windows} windows`);
  });
}

test("findComponent looks inside a Sequence", () => {
  const sequence = { type: "Sequence", pretokenizers: [{ type: "Split" }, { type: "ByteLevel", add_prefix_space: true }] };
  assert.equal(findComponent(sequence, "ByteLevel")?.add_prefix_space, true);
  assert.equal(findComponent({ type: "BertPreTokenizer" }, "ByteLevel"), null);
});

test("the passage's token type: 1 for BERT's post-processors, 0 for RoBERTa's, the template's otherwise", () => {
  assert.equal(passageTypeId({ type: "BertProcessing" }), 1);
  assert.equal(passageTypeId({ type: "RobertaProcessing" }), 0);
  const template = { type: "TemplateProcessing", pair: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
    { Sequence: { id: "B", type_id: 1 } }] };
  assert.equal(passageTypeId({ type: "Sequence", processors: [{ type: "ByteLevel" }, template] }), 1);
  assert.equal(passageTypeId(null), 0);
});
