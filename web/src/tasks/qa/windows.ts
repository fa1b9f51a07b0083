// A question and a passage → the windows the model reads, as Python makes them with the
// tokenizers library (src/staticml/tasks/question_answering/windows.py): [CLS] question [SEP]
// passage-part [SEP], each part overlapping the previous by `stride` tokens (the pair truncation
// "only_second" with overflowing windows). The JS tokenizer has no offsets, so each passage token's
// characters are found here: the passage is normalized character by character (so each normalized
// character knows the original one it came from), pre-tokenized into words, and each word's tokens
// are laid along it. WordPiece (BERT, DistilBERT, MiniLM): a token's characters are its text less
// "##". Byte-level BPE (RoBERTa, GPT-2): each token's characters stand for bytes (the byte-to-unicode
// table), and the tokens of all words concatenate to the UTF-8 bytes of the text, so each byte
// leads back to its character exactly; spaces at a token's edges are trimmed from its offsets per
// window, as the tokenizers library's post-processor does (trim_offsets).
import { Tokenizer } from "@huggingface/tokenizers";

export interface PairLayout {
  /** Ids before the question, between question and passage, after the passage ([CLS]; [SEP]; [SEP]). */
  prefix: number[];
  middle: number[];
  suffix: number[];
}

export interface Window {
  ids: number[];
  typeIds: number[];
  /** Per token: [start, end) UTF-16 offsets into the passage, or null (question, special tokens). */
  spans: Array<[number, number] | null>;
}

interface PassageTokens {
  ids: number[];
  spans: Array<[number, number]>;
  /** Byte-level BPE: the spaces (Ġ) at the start and end of each token, trimmed from its span per window. */
  edges?: Array<[number, number]>;
}

/** How a byte-level tokenizer's post-processor trims offsets (null: it does not). */
interface OffsetTrim {
  addPrefixSpace: boolean;
}

type TemplatePiece = { Sequence?: { id: string; type_id: number }; SpecialToken?: { id: string; type_id: number } };
type Component = {
  type?: string; pretokenizers?: Component[]; processors?: Component[]; add_prefix_space?: boolean; trim_offsets?: boolean; pair?: TemplatePiece[];
};

/** The component of a tokenizer.json part (pre_tokenizer, post_processor) with this type, looking inside a Sequence. */
export function findComponent(part: Component | null | undefined, type: string): Component | null {
  if (!part) return null;
  if (part.type === type) return part;
  for (const inner of [...(part.pretokenizers ?? []), ...(part.processors ?? [])]) {
    const found = findComponent(inner, type);
    if (found) return found;
  }
  return null;
}

/** The token type id the post-processor gives the passage (the second sequence) and the tokens after it:
 * 1 for BERT's, 0 for RoBERTa's (its models have a single token type), what the template says otherwise. */
export function passageTypeId(post: Component | null | undefined): number {
  const template = findComponent(post, "TemplateProcessing");
  const second = template?.pair?.find((piece) => piece.Sequence?.id === "B");
  if (second?.Sequence) return second.Sequence.type_id;
  return findComponent(post, "BertProcessing") ? 1 : 0;
}

/** Code points → [utf-8 byte, the code point's UTF-16 index] per byte. */
function utf8Bytes(text: string): Array<[number, number]> {
  const encoder = new TextEncoder();
  const out: Array<[number, number]> = [];
  for (let i = 0; i < text.length; ) {
    const char = String.fromCodePoint(text.codePointAt(i) ?? 0xfffd);
    for (const byte of encoder.encode(char)) out.push([byte, i]);
    i += char.length;
  }
  return out;
}

const SPACE = "\u0120"; // "Ġ": the byte-to-unicode table's space

function edgeSpaces(token: string): [number, number] {
  const isSpace = (c: string) => c === SPACE; // the only whitespace a byte-level token holds (the others are remapped)
  const chars = [...token];
  let lead = 0;
  while (lead < chars.length && isSpace(chars[lead])) lead++;
  let trail = 0;
  while (trail < chars.length && isSpace(chars[chars.length - 1 - trail])) trail++;
  return [lead, trail];
}

/** The post-processor's trim_offsets rule for one token (k: its place in the window's passage part). */
function trimmed(span: [number, number], [lead, trail]: [number, number], k: number, trim: OffsetTrim): [number, number] {
  let [start, end] = span;
  if (lead > 0 && !(trim.addPrefixSpace && lead === 1 && (k === 0 || start === 0))) start = Math.min(start + lead, end);
  if (trail > 0 && end >= trail) end = Math.max(end - trail, start);
  return [start, end];
}

export class QaTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly byteLevel: Component | null;
  private readonly trim: OffsetTrim | null;
  private readonly passageType: number;

  constructor(tokenizerJson: object, unkToken: string | null, private readonly layout: PairLayout) {
    this.tokenizer = new Tokenizer(tokenizerJson, unkToken ? { unk_token: unkToken } : {});
    const json = tokenizerJson as { pre_tokenizer?: Component; post_processor?: Component };
    this.byteLevel = findComponent(json.pre_tokenizer, "ByteLevel");
    const post = findComponent(json.post_processor, "RobertaProcessing") ?? findComponent(json.post_processor, "ByteLevel");
    this.trim = this.byteLevel && post?.trim_offsets ? { addPrefixSpace: post.add_prefix_space ?? false } : null;
    this.passageType = passageTypeId(json.post_processor);
  }

  /** Ids of the question, without special tokens (Σ lowercased first, as tokenize.ts does for Rust's rule). */
  questionIds(question: string): number[] {
    return this.tokenizer.encode(question.replaceAll("Σ", "σ"), { add_special_tokens: false }).ids;
  }

  /** The passage's token ids and each token's characters. */
  passage(context: string): PassageTokens {
    return this.byteLevel ? this.byteLevelPassage(context) : this.wordPiecePassage(context);
  }

  private wordPiecePassage(context: string): PassageTokens {
    const { normalized, origin } = this.normalize(context);
    const words = this.tokenizer.pre_tokenizer ? this.tokenizer.pre_tokenizer.pre_tokenize_text(normalized) : [normalized];
    const model = this.tokenizer.model;
    if (!model) throw new Error("tokenizer.json has no model");
    const ids: number[] = [];
    const spans: Array<[number, number]> = [];
    let cursor = 0;
    for (const word of words) {
      const at = normalized.indexOf(word, cursor);
      if (at < 0) continue;
      cursor = at + word.length;
      let inWord = 0;
      for (const token of model._call([word])) {
        const id = model.tokens_to_ids.get(token) ?? model.unk_token_id ?? 0;
        ids.push(id);
        if (token === model.unk_token) {
          spans.push([origin[at][0], origin[at + word.length - 1][1]]);
          inWord = word.length;
          continue;
        }
        const piece = inWord > 0 && token.startsWith("##") ? token.slice(2) : token;
        const start = at + inWord;
        const end = Math.min(at + word.length, start + piece.length);
        spans.push([origin[start][0], origin[end - 1][1]]);
        inWord = end - at;
      }
    }
    return { ids, spans };
  }

  /** Byte-level BPE: each character of a word stands for one UTF-8 byte of the (normalized) text, and
   * the words concatenate to all of them (after a space the pre-tokenizer may put in front). */
  private byteLevelPassage(context: string): PassageTokens {
    const { normalized, origin } = this.normalize(context);
    const model = this.tokenizer.model;
    if (!model || !this.tokenizer.pre_tokenizer) throw new Error("tokenizer.json has no model or pre-tokenizer");
    const bytes = utf8Bytes(normalized).map(([byte, at]) => ({ byte, from: origin[at] }));
    if (this.byteLevel?.add_prefix_space && !normalized.startsWith(" ") && bytes.length > 0) bytes.unshift({ byte: 0x20, from: bytes[0].from });
    const table = byteToUnicode();
    const stream = bytes.map((b) => table[b.byte]).join("");
    const ids: number[] = [];
    const spans: Array<[number, number]> = [];
    const edges: Array<[number, number]> = [];
    let cursor = 0;
    for (const word of this.tokenizer.pre_tokenizer.pre_tokenize_text(normalized)) {
      const at = stream.indexOf(word, cursor);
      if (at < 0) continue;
      cursor = at + word.length;
      const tokens = model._call([word]);
      const whole = tokens.join("").length !== word.length; // an unknown piece: each token gets the whole word
      let inWord = 0;
      for (const token of tokens) {
        ids.push(model.tokens_to_ids.get(token) ?? model.unk_token_id ?? 0);
        const [first, last] = whole ? [at, at + word.length - 1] : [at + inWord, at + inWord + token.length - 1];
        spans.push([bytes[first].from[0], bytes[last].from[1]]);
        edges.push(edgeSpaces(token));
        inWord += token.length;
      }
    }
    return { ids, spans, edges };
  }

  /** The windows of one pair, exactly as Python's tokenizer makes them. */
  windows(question: string, context: string, maxLength: number, stride: number): Window[] {
    const q = this.questionIds(question);
    const passage = this.passage(context);
    const { prefix, middle, suffix } = this.layout;
    const room = maxLength - q.length - prefix.length - middle.length - suffix.length;
    if (room <= stride) throw new Error(`the question is too long: ${q.length} tokens leave no room for the passage`);
    const head = [...prefix, ...q, ...middle];
    const windows: Window[] = [];
    for (let start = 0; ; start += room - stride) {
      const end = Math.min(start + room, passage.ids.length);
      const ids = [...head, ...passage.ids.slice(start, end), ...suffix];
      const typeIds = [...head.map(() => 0), ...ids.slice(head.length).map(() => this.passageType)];
      const part = passage.spans.slice(start, end).map((span, k) =>
        this.trim && passage.edges ? trimmed(span, passage.edges[start + k], k, this.trim) : span);
      const spans: Array<[number, number] | null> = [...head.map(() => null), ...part, ...suffix.map(() => null)];
      windows.push({ ids, typeIds, spans });
      if (end >= passage.ids.length) break;
    }
    return windows;
  }

  /** The passage normalized one character at a time, each normalized UTF-16 unit mapped to its original character's [start, end). */
  private normalize(text: string): { normalized: string; origin: Array<[number, number]> } {
    const normalizer = this.tokenizer.normalizer;
    let normalized = "";
    const origin: Array<[number, number]> = [];
    let index = 0;
    for (const char of text) {
      const piece = normalizer ? normalizer.normalize(char === "Σ" ? "σ" : char) : char;
      normalized += piece;
      for (let k = 0; k < piece.length; k++) origin.push([index, index + char.length]);
      index += char.length;
    }
    return { normalized, origin };
  }
}

let byteTable: Record<number, string> | null = null;

/** GPT-2's byte-to-unicode table: printable bytes stand for themselves, the others for 256 + n. */
function byteToUnicode(): Record<number, string> {
  if (byteTable) return byteTable;
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: Record<number, string> = {};
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  byteTable = table;
  return table;
}
