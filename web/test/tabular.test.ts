// The tabular page's pure parts (src/tabular.ts): row checks, the graph's [n, 1] columns (missing:
// NaN / ""), a file's cells as values, columns matched by name. The browser tests hold the whole
// path to Python onnxruntime (tests/browser/test_tabular_page.py).
import assert from "node:assert/strict";
import { test } from "node:test";
import { cellValue, checkRows, columns, matchColumns, positiveLabel, recordOf, typicalRow, yesNo } from "../src/tasks/tabular/rows";
import type { Feature, Manifest } from "../src/types";

const FEATURES: Feature[] = [
  { name: "Age", type: "number", min: 18, max: 68, step: 1, optional: false, typical: 36 },
  { name: "Home", type: "category", categories: ["owner", "rent"], optional: true, typical: "owner" },
  { name: "Records", type: "yes-no", optional: false, typical: false },
];

test("tabular: rows become float32 / string columns, missing as NaN and the empty string", () => {
  const rows = [
    { Age: 30, Home: "rent", Records: true },
    { Age: null, Home: null, Records: 0 },
    { Age: 99, Home: "castle", Records: null },
  ];
  checkRows(FEATURES, rows);
  const cols = columns(FEATURES, rows);
  assert.equal(cols.get("Age")?.type, "float32");
  assert.deepEqual(Array.from(cols.get("Age")?.data as Float32Array), [30, NaN, 99]);
  assert.deepEqual(cols.get("Home"), { type: "string", data: ["rent", "", "castle"] });
  assert.deepEqual(Array.from(cols.get("Records")?.data as Float32Array), [1, 0, NaN]);
  assert.deepEqual(typicalRow(FEATURES), { Age: 36, Home: "owner", Records: false });
});

test("tabular: features named like an object's internals (__proto__, constructor, toString) are features", () => {
  const features: Feature[] = [
    { name: "__proto__", type: "number", optional: false, typical: 3 },
    { name: "constructor", type: "category", categories: ["a", "b"], optional: false, typical: "b" },
    { name: "toString", type: "yes-no", optional: false, typical: false },
  ];
  const row = typicalRow(features);
  assert.deepEqual(Object.keys(row), ["__proto__", "constructor", "toString"]);
  checkRows(features, [JSON.parse('{"__proto__": 4, "constructor": "a", "toString": true}')]);
  const cols = columns(features, [row]);
  assert.deepEqual([...cols.keys()], ["__proto__", "constructor", "toString"]);
  assert.deepEqual(Array.from(cols.get("__proto__")?.data as Float32Array), [3]);
  assert.deepEqual(cols.get("constructor"), { type: "string", data: ["b"] });
  // A row without them is missing them: the ones every object inherits do not count.
  assert.throws(() => checkRows(features, [JSON.parse('{"__proto__": 1, "toString": false}')]), /rows\[0\]\.constructor is missing/);
  assert.throws(() => checkRows(features, [{}]), /rows\[0\]\.__proto__ is missing/);
  const record = recordOf([["__proto__", 1]]);
  assert.equal(Object.getPrototypeOf(record), Object.prototype);
  assert.deepEqual(Object.keys(record), ["__proto__"]);
});

test("tabular: a bad row is refused naming the row and the field", () => {
  const ok = { Age: 30, Home: "rent", Records: true };
  const cases: [unknown, string][] = [
    [{ ...ok, Age: "30" }, "rows[0].Age must be a number or null, not a string"],
    [{ ...ok, Home: 1 }, "rows[0].Home must be a string or null, not a number"],
    [{ ...ok, Records: 2 }, 'rows[0].Records must be true, false, 0, 1 or null (or "yes", "no", "y", "n"), not 2'],
    [{ ...ok, Records: "maybe" }, 'rows[0].Records must be true, false, 0, 1 or null (or "yes", "no", "y", "n"), not "maybe"'],
    [{ ...ok, Income: 1 }, "rows[0].Income is not a feature of this model"],
    [{ Age: 30, Home: "rent" }, "rows[0].Records is missing"],
    [[1, 2], "rows[0] must be an object"],
  ];
  for (const [row, says] of cases) {
    assert.throws(() => checkRows(FEATURES, [row]), (e: Error) => e.message.startsWith(says), says);
  }
  assert.throws(() => checkRows(FEATURES, { Age: 1 }), /rows must be a list/);
});

test("tabular: a file's cells as values, columns by name", () => {
  const [age, home, records] = FEATURES;
  assert.equal(cellValue(age, " 42 ", 1), 42);
  for (const missing of ["", "NA", "n/a", undefined]) assert.equal(cellValue(age, missing, 1), null);
  assert.equal(cellValue(home, "rent", 1), "rent");
  assert.equal(cellValue(records, "Yes", 1), true);
  assert.equal(cellValue(records, "0", 1), false);
  assert.throws(() => cellValue(age, "1,200", 7), /Row 7, column "Age": "1,200" is not a number/);
  assert.throws(() => cellValue(records, "maybe", 2), /is not yes or no/);
  assert.deepEqual(matchColumns(FEATURES, ["id", "Records", "Home", "Age"]), [3, 2, 1]);
  assert.throws(() => matchColumns(FEATURES, ["Age", "Home"]), /no column "Records"/);
});

test("tabular: the headline label is positive_label when the manifest names one, else the last (a guess)", () => {
  const manifest = { name: "m", labels: ["bad", "good"] } as Manifest;
  assert.deepEqual(positiveLabel(manifest), { label: "good", named: false });
  assert.deepEqual(positiveLabel({ ...manifest, positive_label: "bad" } as Manifest), { label: "bad", named: true });
});

test("tabular: yes/no values as the training data had them, the same in rows and in a file's cells", () => {
  for (const [value, meant] of [[true, true], [0, false], ["yes", true], ["No", false], ["y", true], ["N", false],
    ["true", true], ["FALSE", false], ["1", true], ["0", false], [" t ", true], ["f", false]] as const) {
    assert.equal(yesNo(value), meant, String(value));
    checkRows(FEATURES, [{ Age: 30, Home: "rent", Records: value }]);
    assert.equal(columns(FEATURES, [{ Age: 30, Home: "rent", Records: value }]).get("Records")?.data[0], meant ? 1 : 0);
  }
  for (const value of ["maybe", 2, "2", ""]) assert.equal(yesNo(value), null, String(value));
});
