// A question and a passage → the windows the model reads, as Python makes them with the
// tokenizers library (src/staticml/tasks/question_answering/windows.py): [CLS] question [SEP]
// passage-part [SEP], each part overlapping the previous by `stride` tokens (the pair truncation
// "only_second" with overflowing windows). The JS tokenizer has no offsets, so each passage token's
// characters are found here: the passage is normalized character by character (so each normalized
// character knows the original one it came from), pre-tokenized into words, and each word's
// WordPiece tokens are laid along it. BERT-family tokenizers (WordPiece) only.
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
}

export class QaTokenizer {
  private readonly tokenizer: Tokenizer;

  constructor(tokenizerJson: object, unkToken: string | null, private readonly layout: PairLayout) {
    this.tokenizer = new Tokenizer(tokenizerJson, unkToken ? { unk_token: unkToken } : {});
  }

  /** Ids of the question, without special tokens (Σ lowercased first, as tokenize.ts does for Rust's rule). */
  questionIds(question: string): number[] {
    return this.tokenizer.encode(question.replaceAll("Σ", "σ"), { add_special_tokens: false }).ids;
  }

  /** The passage's token ids and each token's characters. */
  passage(context: string): PassageTokens {
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
      const typeIds = [...head.map(() => 0), ...ids.slice(head.length).map(() => 1)];
      const spans: Array<[number, number] | null> = [...head.map(() => null), ...passage.spans.slice(start, end), ...suffix.map(() => null)];
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
