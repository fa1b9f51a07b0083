"""A TextVectorization's custom standardization (a Python function of `tf.strings` ops, as in TensorFlow's
text-classification tutorial) as `tokenizer.json` normalizers.

The function is traced to its TensorFlow graph and each op of the chain from its input to its output becomes
normalizers that compute the same string in Python (Rust `tokenizers`, Oniguruma regexes) and in the page
(`@huggingface/tokenizers`, JavaScript regexes):

- `StringLower`/`StringUpper` (no encoding: ASCII letters only, as TensorFlow does) → one Replace per letter;
- `StaticRegexReplace`/`RegexReplace` with a constant pattern and rewrite, all matches → Replace with a regex
  rewritten from RE2 into the syntax the three engines read alike (`.` does not match a newline in RE2,
  `^`/`$` are the text's ends, `\\d \\s \\w` are ASCII, `[[:punct:]]` is ASCII, `\\#` is a literal #);
- `StringStrip` (ASCII whitespace, absl's) → Replace of the leading and trailing ASCII whitespace;
- `Identity` passes.

Anything else (`Substr`, `UnicodeTranscode`, a pattern computed at run time, a `$1`/`\\1` rewrite, a
case-insensitive flag, a Unicode class) is refused naming the op and the reason. The caller proves the
translation on probe texts (keras_import.check_standardization) before anything is written.
"""

from __future__ import annotations

import re
import string
from typing import Callable

from tokenizers import Regex, normalizers

from ..errors import UserError

# In no engine's syntax may these stand for themselves outside a class (JS with the u flag refuses `\#`, `\~`...,
# so only these are escaped); inside a class, these.
SYNTAX = set("^$\\.*+?()[]{}|/")
CLASS_SYNTAX = set("\\]^-[")
START, END = r"(?<![\s\S])", r"(?![\s\S])"  # RE2's ^ and $ (Oniguruma's are line anchors, JS has no \A)
ASCII_WHITESPACE = "\\t\\n\\x0b\\x0c\\r "
PERL_CLASSES = {"d": "0-9", "s": "\\t\\n\\x0c\\r ", "w": "0-9A-Za-z_"}  # RE2's \d \s \w: ASCII (\s has no \v)
POSIX_CLASSES = {"alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
                 "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
                 "punct": "!-/:-@\\[-`{-~", "space": ASCII_WHITESPACE, "upper": "A-Z", "word": "0-9A-Za-z_",
                 "xdigit": "0-9A-Fa-f"}
CONTROL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
REPETITION = re.compile(r"\{\d+(,\d*)?\}\??")
# Texts on which the translation is checked (with the usual probe texts): HTML, punctuation, anything a rewrite or
# a class shorthand could treat differently, non-ASCII letters, spaces and line breaks of every kind.
PROBES = [
    "<br />", "A<br />B", "line<br /><br />break", "<BR /> <br/> <br >", "<p>Hello</p> <a href='x.html'>link</a>",
    "&amp; &lt;tag&gt; &#39;", string.punctuation, "don't!!! #tag @user http://x.y/z?q=1&r=2", "a.b,c;d:e-f_g",
    "[brackets] {braces} (parens) <angles>", "back\\slash \\n \\1", "$1 \\1 $& $$ $", "50% off -- $9.99 ~tilde~ `tick`",
    "Ünïcödé ÉCOLE Σίσυφος ΣΑΣ", "İstanbul ǅ ß ẞ ﬁ", "emoji 🎉🎉 and 中文, 日本語。", "a\u00a0b c\u3000d", "\u00a0nbsp at the ends\u00a0",
    "curly “quotes” ‘single’ — dash … ellipsis", "full-width ＡＢＣ！？", "zero\u200bwidth joiner\u200d", "combining e\u0301",
    "line\u2028separator\u2029paragraph", "x\x0by\x1cz\x7f", "tab\tand\nnew\rlines\r\n", "  leading and trailing  ",
    "digits 0123 ٣٤ ５", "", "   ",
]
SUPPORTED = "tf.strings.lower/upper (no encoding), regex_replace with constant pattern and rewrite, strip"


class Untranslatable(ValueError):
    """A pattern or rewrite that the normalizers cannot reproduce exactly (the message says why)."""


# ---------------------------------------------------------------- RE2 → a regex Oniguruma and JavaScript read alike


def portable_pattern(pattern: str) -> str:
    """The RE2 `pattern` in a syntax that means the same to RE2, Oniguruma (Rust tokenizers) and JavaScript
    (u flag, the page's tokenizers); raises Untranslatable for what it cannot say in all three."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            piece, i = _escape(pattern, i + 1, in_class=False)
        elif char == "[":
            piece, i = _character_class(pattern, i + 1)
        elif char == "(":
            piece, i = _group(pattern, i + 1)
        elif char == "{" and REPETITION.match(pattern, i):
            match = REPETITION.match(pattern, i)
            piece, i = match[0], match.end()
        else:
            piece, i = _plain(char), i + 1
        out.append(piece)
    result = "".join(out)
    if re.fullmatch(result, ""):  # checked with Python's re, which reads this subset alike
        raise Untranslatable("it can match the empty string (the engines place empty matches differently)")
    return result


def _plain(char: str) -> str:
    return {".": "[^\\n]", "^": START, "$": END}.get(char) or (char if char in "*+?|)" else literal(char, in_class=False))


def literal(char: str, in_class: bool) -> str:
    """`char` matching itself, written so that every engine reads it so."""
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\x{ord(char):02x}"
    return f"\\{char}" if char in (CLASS_SYNTAX if in_class else SYNTAX) else char


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    """The escape after a backslash at pattern[i]: a class shorthand, a control character, a literal."""
    if i >= len(pattern):
        raise Untranslatable("it ends with a lone backslash")
    char = pattern[i]
    if char in PERL_CLASSES:
        return (PERL_CLASSES[char] if in_class else f"[{PERL_CLASSES[char]}]"), i + 1
    if char.lower() in PERL_CLASSES and not in_class:
        return f"[^{PERL_CLASSES[char.lower()]}]", i + 1
    if char in CONTROL_ESCAPES:
        return literal(CONTROL_ESCAPES[char], in_class), i + 1
    if char == "x":
        return _hex_escape(pattern, i + 1, in_class)
    if not char.isascii() or not char.isalnum():
        return literal(char, in_class), i + 1
    raise Untranslatable(f"\\{char} has no equivalent that Oniguruma and JavaScript read as RE2 does")


def _hex_escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    match = re.compile(r"\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2})").match(pattern, i)
    if not match:
        raise Untranslatable("\\x must be followed by two hex digits or {hex}")
    code = int(match[1] or match[2], 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise Untranslatable(f"\\x{{{code:x}}} is not a character")
    return literal(chr(code), in_class), match.end()


def _character_class(pattern: str, i: int) -> tuple[str, int]:
    """[...] from just after the `[`: RE2 reads `]` first as a literal and `[` inside as a literal."""
    negated = pattern.startswith("^", i)
    i += negated
    items, first = [], True
    while True:
        if i >= len(pattern):
            raise Untranslatable("a character class is not closed")
        char = pattern[i]
        if char == "]" and not first:
            return f"[{'^' if negated else ''}{''.join(items)}]", i + 1
        first = False
        posix = re.compile(r"\[:(\^?)([a-z]+):\]").match(pattern, i)
        if posix:
            if posix[1] or posix[2] not in POSIX_CLASSES:
                raise Untranslatable(f"[:{posix[1]}{posix[2]}:] is not supported")
            items.append(POSIX_CLASSES[posix[2]])
            i = posix.end()
            continue
        if char == "\\":
            if pattern[i + 1:i + 2] in ("D", "S", "W"):
                raise Untranslatable(f"\\{pattern[i + 1]} inside a character class is not supported")
            piece, i = _escape(pattern, i + 1, in_class=True)
        else:
            piece, i = literal(char, in_class=True), i + 1
        if pattern.startswith("-", i) and i + 1 < len(pattern) and pattern[i + 1] != "]":
            items.append(piece + "-")  # a range: its end follows
            i += 1
            continue
        items.append(piece)


def _group(pattern: str, i: int) -> tuple[str, int]:
    """( from just after it: every group becomes non-capturing (no rewrite may refer to one)."""
    if not pattern.startswith("?", i):
        return "(?:", i
    named = re.compile(r"\?P?<[A-Za-z_][A-Za-z0-9_]*>").match(pattern, i)
    if named:
        return "(?:", named.end()
    if pattern.startswith("?:", i):
        return "(?:", i + 2
    raise Untranslatable(f"the group '({pattern[i:i + 4]}' (flags such as (?i) or (?s)) is not supported")


def portable_rewrite(rewrite: str) -> str:
    """RE2's rewrite as the literal text that Replace inserts: `\\\\` is a backslash; `\\1` (a group) and `$`
    (special to the page's JavaScript replaceAll) cannot be said the same way in both tokenizers."""
    if "$" in rewrite:
        raise Untranslatable("the rewrite holds '$', which the page's JavaScript replaceAll would read as a group reference")
    out, i = [], 0
    while i < len(rewrite):
        if rewrite[i] == "\\":
            if rewrite[i + 1:i + 2] != "\\":
                raise Untranslatable(f"the rewrite refers to a group ({rewrite[i:i + 2]!r}); only literal text is supported")
            out.append("\\")
            i += 2
        else:
            out.append(rewrite[i])
            i += 1
    return "".join(out)


# ---------------------------------------------------------------- the traced function → normalizers


def ascii_case(to_lower: bool) -> list:
    """tf.strings.lower/upper without an encoding: ASCII letters only (É, Σ stay)."""
    source = string.ascii_uppercase if to_lower else string.ascii_lowercase
    return [normalizers.Replace(letter, letter.swapcase()) for letter in source]


def strip_ascii_whitespace() -> list:
    """tf.strings.strip: absl's StripAsciiWhitespace (a no-break space stays)."""
    return [normalizers.Replace(Regex(f"{START}[{ASCII_WHITESPACE}]+|[{ASCII_WHITESPACE}]+{END}"), "")]


def standardization_normalizers(function: Callable, tf, where: str) -> list:
    """The normalizers that compute what `function` computes on a batch of strings, or a UserError naming the op."""
    name = getattr(function, "__name__", type(function).__name__)
    where = f"{where}: standardization '{name}'"
    try:
        graph = tf.function(function).get_concrete_function(tf.TensorSpec([None], tf.string))
    except Exception as exc:  # whatever the user's Python raises while tracing
        raise UserError(f"{where}: cannot trace it to a TensorFlow graph ({_first_line(exc)})") from None
    outputs = tf.nest.flatten(graph.structured_outputs)
    if len(outputs) != 1 or outputs[0].dtype != tf.string:
        raise UserError(f"{where}: returns {len(outputs)} tensors; expected one string tensor")
    _refuse_unknown_ops(graph.graph, where)
    parts = []
    for op in _chain(outputs[0], where):
        try:
            parts += _translate(op, tf)
        except Untranslatable as exc:
            raise UserError(f"{where}: TensorFlow op {op.type} ('{op.name}'): {exc}; not imported") from None
    return parts


TRANSLATED = {"StringLower", "StringUpper", "StaticRegexReplace", "RegexReplace", "StringStrip", "Identity"}
PASSIVE = {"Placeholder", "Const", "NoOp"}


def _refuse_unknown_ops(graph, where: str) -> None:
    for op in graph.get_operations():
        if op.type not in TRANSLATED | PASSIVE:
            raise UserError(f"{where}: uses TensorFlow op {op.type} ('{op.name}'), which has no tokenizer.json "
                            f"normalizer; supported: {SUPPORTED}; not imported")


def _chain(output, where: str) -> list:
    """The ops from the function's input to its output, in order (each op's first input is the text)."""
    chain, op = [], output.op
    while op.type != "Placeholder":
        if op.type not in TRANSLATED:  # a Const output: the function ignores its input
            raise UserError(f"{where}: its output does not come from its input (op {op.type} '{op.name}'); not imported")
        chain.append(op)
        op = op.inputs[0].op
    return chain[::-1]


def _translate(op, tf) -> list:
    if op.type == "Identity":
        return []
    if op.type in ("StringLower", "StringUpper"):
        if op.get_attr("encoding"):
            raise Untranslatable(f"encoding={op.get_attr('encoding').decode()!r} (Unicode case mapping, which TensorFlow "
                                 "and the tokenizers do not do alike); leave the encoding out for ASCII")
        return ascii_case(op.type == "StringLower")
    if op.type == "StringStrip":
        return strip_ascii_whitespace()
    if op.type == "StaticRegexReplace":
        pattern, rewrite = op.get_attr("pattern"), op.get_attr("rewrite")
    else:  # RegexReplace: pattern and rewrite are tensors, translatable when they are constants
        pattern, rewrite = (tf.get_static_value(tensor) for tensor in op.inputs[1:3])
        if not isinstance(pattern, bytes) or not isinstance(rewrite, bytes):
            raise Untranslatable("its pattern and rewrite must be constant strings")
    if not op.get_attr("replace_global"):
        raise Untranslatable("replace_global=False (first match only) is not supported")
    try:
        pattern, rewrite = pattern.decode("utf-8"), rewrite.decode("utf-8")
    except UnicodeDecodeError:
        raise Untranslatable("its pattern or rewrite is not UTF-8") from None
    try:
        regex = Regex(portable_pattern(pattern))
    except Exception as exc:  # Untranslatable, or Oniguruma refuses what came out
        raise Untranslatable(f"pattern {pattern!r}: {exc}") from None
    return [normalizers.Replace(regex, portable_rewrite(rewrite))]


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]
