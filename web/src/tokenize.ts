// The project's tokenization rule, identical to the Python side:
//   ids = encode(text, add_special_tokens=false)
//   ids = ids[: max_length - len(prefix) - len(suffix)]
//   ids = prefix + ids + suffix
// A batch is padded to its longest sequence with pad_id; attention_mask is 1 on real tokens.
// The truncation/padding settings inside tokenizer.json are deliberately ignored.
import { Tokenizer } from "@huggingface/tokenizers";
import type { TokenizerSpec } from "./types";

export interface Batch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  dims: [number, number];
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly bodyLength: number;

  constructor(
    tokenizerJson: object,
    private readonly spec: TokenizerSpec,
    maxLength: number,
  ) {
    // The unknown token matters for WordLevel vocabularies: the JS library only learns it
    // from this config object (WordPiece/BPE read it from tokenizer.json itself).
    const config = spec.unk_token ? { unk_token: spec.unk_token } : {};
    this.tokenizer = new Tokenizer(tokenizerJson, config);
    this.bodyLength = Math.max(0, maxLength - spec.prefix_ids.length - spec.suffix_ids.length);
  }

  /** Ids of one text as fed to the model: truncated, with specials, unpadded. */
  encode(text: string): number[] {
    const body = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    return [...this.spec.prefix_ids, ...body.slice(0, this.bodyLength), ...this.spec.suffix_ids];
  }

  /** Encodes texts and pads them to the longest sequence of the batch. */
  batch(texts: string[]): Batch {
    const rows = texts.map((text) => this.encode(text));
    const seq = Math.max(0, ...rows.map((row) => row.length));
    const inputIds = new BigInt64Array(rows.length * seq).fill(BigInt(this.spec.pad_id));
    const attentionMask = new BigInt64Array(rows.length * seq);
    rows.forEach((row, r) => {
      row.forEach((id, c) => {
        inputIds[r * seq + c] = BigInt(id);
        attentionMask[r * seq + c] = 1n;
      });
    });
    return { inputIds, attentionMask, dims: [rows.length, seq] };
  }
}
