"""Byte-level BPE tokenizers (RoBERTa's kind) and the question-answering windows Python makes with them, for the
page's node test (web/test/qa_windows.test.ts): `python tests/qa_bpe_windows.py OUT_DIR` writes, per variant of
the tokenizer's prefix-space and offset-trimming settings, `<variant>.tokenizer.json` and `<variant>.windows.json`
(pairs, the pair layout, and each window's ids and passage spans as UTF-16 offsets, which is what the page gives)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from staticml.hard_texts import hard_texts
from staticml.tasks.question_answering.windows import pair_layout, windows

MAX_LENGTH, STRIDE = 48, 12
VARIANTS = {"roberta": (False, True), "prefix-space": (True, True), "untrimmed": (False, False)}
QUESTIONS = ["Where does the river flow?", "Who built the café?", "  Was ist 𝔘, café?"]


def byte_level_bpe(add_prefix_space: bool, trim_offsets: bool):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(hard_texts(200) + ["the quick brown fox jumps over the lazy dog"] * 5, trainer=trainer)
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=trim_offsets,
                                                            add_prefix_space=add_prefix_space)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def pairs() -> list[tuple[str, str]]:
    hard = [t for t in hard_texts(120) if t.strip()]
    plain = " ".join(f"In {1800 + 7 * k} the bridge over the  river near town {k} was finished." for k in range(9))
    passages = [plain, " " + plain, "\n" + plain[:200], plain + "  ", *hard]
    return [(QUESTIONS[i % len(QUESTIONS)], p) for i, p in enumerate(passages)]


def utf16(text: str) -> list[int]:
    """Code point offset → UTF-16 offset, for every offset 0..len(text)."""
    out = [0]
    for char in text:
        out.append(out[-1] + (2 if ord(char) > 0xFFFF else 1))
    return out


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, (prefix_space, trim) in VARIANTS.items():
        tokenizer = byte_level_bpe(prefix_space, trim)
        (out / f"{name}.tokenizer.json").write_text(tokenizer.to_str())
        cases = []
        for question, context in pairs():
            units = utf16(context)
            found = windows(tokenizer, question, context, MAX_LENGTH, STRIDE)
            cases.append({"question": question, "context": context, "windows": [
                {"ids": w.ids, "type_ids": w.type_ids, "spans": [None if s is None else [units[s[0]], units[s[1]]] for s in w.spans]}
                for w in found]})
        document = {"max_length": MAX_LENGTH, "stride": STRIDE, "layout": pair_layout(tokenizer), "cases": cases}
        (out / f"{name}.windows.json").write_text(json.dumps(document, ensure_ascii=False))


if __name__ == "__main__":
    write(Path(sys.argv[1]))
