// The project's tokenization rule, identical to the Python side:
//   ids = encode(text, add_special_tokens=false)
//   ids = ids[: max_length - len(prefix) - len(suffix)]
//   ids = prefix + ids + suffix
// A batch is padded to its longest sequence with pad_id; attention_mask is 1 on real tokens.
// The truncation/padding settings inside tokenizer.json are deliberately ignored.
import { Tokenizer } from "@huggingface/tokenizers";
import type { TokenizerSpec } from "../../types";

export interface Batch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  dims: [number, number];
}

export interface NumberBatch {
  inputIds: Float64Array;
  attentionMask: Float64Array;
  dims: [number, number];
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly bodyLength: number;
  private readonly lowercases: boolean;

  constructor(
    tokenizerJson: object,
    private readonly spec: TokenizerSpec,
    maxLength: number,
  ) {
    // The unknown token matters for WordLevel vocabularies: the JS library only learns it
    // from this config object (WordPiece/BPE read it from tokenizer.json itself).
    const config = spec.unk_token ? { unk_token: spec.unk_token } : {};
    this.tokenizer = new Tokenizer(tokenizerJson, config);
    this.lowercases = lowercases((tokenizerJson as { normalizer?: unknown }).normalizer);
    this.bodyLength = Math.max(0, maxLength - spec.prefix_ids.length - spec.suffix_ids.length);
  }

  /** Ids of one text as fed to the model: truncated, with specials, unpadded. */
  encode(text: string): number[] {
    // JS lowercases a word-final capital sigma to "ς", Rust (Python) always to "σ": when the
    // normalizer lowercases anyway, lowercasing Σ first gives Python's ids.
    const input = this.lowercases ? text.replaceAll("Σ", "σ") : text;
    const body = this.tokenizer.encode(input, { add_special_tokens: false }).ids;
    return [...this.spec.prefix_ids, ...body.slice(0, this.bodyLength), ...this.spec.suffix_ids];
  }

  /** Encodes texts and pads them to the longest sequence of the batch (int64, for onnxruntime-web). */
  batch(texts: string[]): Batch {
    const { inputIds, attentionMask, dims } = this.numbers(texts);
    return { inputIds: BigInt64Array.from(inputIds, BigInt), attentionMask: BigInt64Array.from(attentionMask, BigInt), dims };
  }

  /** The same batch as plain numbers (the compact engine holds int64 values as doubles). */
  numbers(texts: string[]): NumberBatch {
    const rows = texts.map((text) => this.encode(text));
    let seq = 0;
    for (const row of rows) seq = Math.max(seq, row.length);
    const inputIds = new Float64Array(rows.length * seq).fill(this.spec.pad_id);
    const attentionMask = new Float64Array(rows.length * seq);
    rows.forEach((row, r) => {
      inputIds.set(row, r * seq);
      attentionMask.fill(1, r * seq, r * seq + row.length);
    });
    return { inputIds, attentionMask, dims: [rows.length, seq] };
  }
}

/** Whether a tokenizer.json normalizer lowercases (BertNormalizer or Lowercase, maybe in a Sequence). */
function lowercases(normalizer: unknown): boolean {
  if (!normalizer || typeof normalizer !== "object") return false;
  const n = normalizer as { type?: string; lowercase?: boolean; normalizers?: unknown[] };
  if (n.type === "Lowercase") return true;
  if (n.type === "BertNormalizer") return n.lowercase === true;
  if (n.type === "Sequence") return (n.normalizers ?? []).some(lowercases);
  return false;
}
