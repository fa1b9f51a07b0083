"""A transformer's vocabulary pruned to the tokens a corpus uses: fewer embedding rows, same answers.

MiniLM's word embedding is 30,522 × 384 of its 22.7M parameters, yet a corpus of tweets uses
about half of those tokens. Pruning keeps the rows of the tokens in `kept` (renumbered 0..n-1 in
their old order) and maps every other token to [UNK]:

- the graph's embedding table becomes `table[kept]`;
- tokenizer.json keeps its whole vocabulary, so WordPiece splits every word exactly as before,
  but each token's id becomes its new row, and a dropped token's id becomes [UNK]'s new row.
  Dropping tokens from the vocabulary instead would change how words split (greedy longest
  match falls back to shorter pieces), and the page and Python would still agree but no
  longer with the full model. Both the Rust and the JS tokenizers accept several tokens per id.

So for every text, pruned ids = [new_id(t) if t is kept else new_id([UNK]) for t in full ids].
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

# Word pieces every text may need whatever the corpus: single characters ("##a") and ASCII pairs.
_BASIC_PIECE = re.compile(r"^##(.|[a-z0-9]{2})$")


def used_token_ids(tokenizer, texts: Iterable[str]) -> set[int]:
    """Ids the full tokenizer gives any of `texts` (without special tokens)."""
    used: set[int] = set()
    for encoding in tokenizer.encode_batch(list(texts), add_special_tokens=False):
        used.update(encoding.ids)
    return used


def basic_token_ids(tokenizer_json: dict) -> set[int]:
    """Kept whatever the corpus: the added tokens, every whole word of the vocabulary (the general
    word list: a word the corpus lacks still reads as itself, not [UNK]), every word piece of a
    non-ASCII script, single characters and ASCII pairs. What goes: the [unused…] rows, and the
    ASCII word pieces the corpus never uses.

    Pruning to the corpus alone (16,210 of MiniLM's 30,522 rows on the 3-label tweets) moved build's
    short probes by up to 0.36 ("trailing space " reads [UNK] space): a failed variant check."""
    vocab = tokenizer_json["model"]["vocab"]
    kept = {i for token, i in vocab.items()
            if not token.startswith("[unused") and (not token.startswith("##") or not token.isascii() or _BASIC_PIECE.match(token))}
    return kept | {added["id"] for added in tokenizer_json.get("added_tokens", [])}


def remapping(kept: Iterable[int], unk_id: int) -> dict[int, int]:
    """Old id → new row, in the old order; [UNK] is always kept."""
    return {old: new for new, old in enumerate(sorted(set(kept) | {unk_id}))}


def prune_tokenizer(tokenizer_json: dict, kept: Iterable[int]) -> dict:
    """tokenizer.json with every id renumbered and each dropped token's id made [UNK]'s."""
    model = tokenizer_json["model"]
    if model.get("type") != "WordPiece":
        raise ValueError(f"vocabulary pruning handles WordPiece tokenizers, not {model.get('type')}")
    vocab = model["vocab"]
    new = remapping(kept, vocab[model["unk_token"]])
    unk = new[vocab[model["unk_token"]]]
    pruned = json.loads(json.dumps(tokenizer_json))
    pruned["model"]["vocab"] = {token: new.get(old, unk) for token, old in vocab.items()}
    for added in pruned.get("added_tokens", []):
        added["id"] = new[added["id"]]
    processor = pruned.get("post_processor") or {}
    for special in (processor.get("special_tokens") or {}).values():
        special["ids"] = [new[i] for i in special["ids"]]
    return pruned


def embedding_table(model: onnx.ModelProto, vocab_size: int) -> onnx.TensorProto:
    """The word embedding: the initializer of `vocab_size` rows that a Gather on input_ids reads."""
    tables = {i.name: i for i in model.graph.initializer if len(i.dims) == 2 and i.dims[0] == vocab_size}
    for node in model.graph.node:
        if node.op_type == "Gather" and node.input[0] in tables and node.input[1] == "input_ids":
            return tables[node.input[0]]
    raise ValueError(f"no Gather of input_ids from a table of {vocab_size} rows in the graph")


def prune_graph(source: Path, target: Path, kept: Iterable[int], vocab_size: int, unk_id: int) -> int:
    """Write `source` with its word embedding cut to the kept rows; returns the rows kept."""
    model = onnx.load(str(source))
    table = embedding_table(model, vocab_size)
    rows = sorted(remapping(kept, unk_id))
    values = numpy_helper.to_array(table)[np.array(rows)]
    table.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(values), table.name))
    stale = [v for v in model.graph.value_info if v.name == table.name]  # the exporter's note of the old shape
    for info in stale:
        model.graph.value_info.remove(info)
    onnx.save(model, str(target))
    onnx.checker.check_model(str(target), full_check=True)
    return len(rows)


def prune_graph_with_remap(source: Path, target: Path, kept: Iterable[int], vocab_size: int, unk_id: int) -> int:
    """Write `source` with its word embedding cut to the kept rows and the renumbering inside the
    graph (Gather of a table of vocab_size new ids by input_ids), so it takes the full tokenizer's
    ids: a variant that shares tokenizer.json with the others. Returns the rows kept."""
    model = onnx.load(str(source))
    table = embedding_table(model, vocab_size)
    new = remapping(kept, unk_id)
    ids = np.array([new.get(old, new[unk_id]) for old in range(vocab_size)], dtype=np.int64)
    rows = sorted(new)
    values = numpy_helper.to_array(table)[np.array(rows)]
    table.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(values), table.name))
    for info in [v for v in model.graph.value_info if v.name == table.name]:
        model.graph.value_info.remove(info)
    remap, remapped = f"{table.name}_rows", "input_ids_rows"
    model.graph.initializer.append(numpy_helper.from_array(ids, remap))
    for node in model.graph.node:
        if node.op_type == "Gather" and node.input[0] == table.name and node.input[1] == "input_ids":
            node.input[1] = remapped
    model.graph.node.insert(0, helper.make_node("Gather", [remap, "input_ids"], [remapped], name="vocab_rows", axis=0))
    onnx.save(model, str(target))
    onnx.checker.check_model(str(target), full_check=True)
    return len(rows)


def kept_ids(tokenizer_path: Path, texts: Iterable[str]) -> tuple[set[int], int, int]:
    """The ids `texts` use plus the basic ones, [UNK]'s id and the vocabulary size of a tokenizer.json."""
    from tokenizers import Tokenizer

    tokenizer_json = json.loads(tokenizer_path.read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json))
    vocab = tokenizer_json["model"]["vocab"]
    kept = used_token_ids(tokenizer, texts) | basic_token_ids(tokenizer_json)
    return kept, vocab[tokenizer_json["model"]["unk_token"]], len(vocab)


def prune_folder_files(tokenizer_path: Path, graph: Path, texts: Iterable[str], out_tokenizer: Path, out_graph: Path) -> int:
    """Prune a model's graph and tokenizer.json to the tokens `texts` use (plus the basic ones)."""
    from tokenizers import Tokenizer

    tokenizer_json = json.loads(tokenizer_path.read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json))
    kept = used_token_ids(tokenizer, texts) | basic_token_ids(tokenizer_json)
    vocab = tokenizer_json["model"]["vocab"]
    unk_id = vocab[tokenizer_json["model"]["unk_token"]]
    rows = prune_graph(graph, out_graph, kept, len(vocab), unk_id)
    out_tokenizer.write_text(json.dumps(prune_tokenizer(tokenizer_json, kept), ensure_ascii=False, separators=(",", ":")),
                             encoding="utf-8")
    return rows
