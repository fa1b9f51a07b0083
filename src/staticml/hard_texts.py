"""Strings that break tokenizers: used by the parity tests and by `staticml verify`."""

from __future__ import annotations

import random

BASE = [
    "", " ", "   ", "\t", "\n", "\r\n", "a", "I", ".", "!!!", "???", "...", "?!?!",
    "I love this, it made my day!", "This is the worst service I have ever had.",
    "Not bad at all, better than I expected.", "meh", "SO GOOD!!!", "soooooo goooood", "can't won't don't",
    "Café, naïve, résumé, über, façade, jalapeño", "ÀÉÎÕÜ àéîõü", "Ærøskøbing ÅSE", "İstanbul ıi",
    "straße STRASSE ß", "ﬁne ﬂow ﬀ", "Ⅻ ① ㎞ ™", "e\u0301 vs é", "ﬀ\u200b zero\u200bwidth", "soft\u00adhyphen",
    "ΣΊΣΥΦΟΣ Σ σ ς", "ΟΔΥΣΣΕΥΣ ήταν εδώ", "Привет, как дела?", "Ёжик в тумане", "مرحبا بالعالم", "שלום עולם",
    "नमस्ते दुनिया", "สวัสดีครับ", "你好，世界！", "我爱自动驾驶汽车", "東京は晴れです", "こんにちは、カタカナ、ひらがな",
    "한국어 문장입니다", "混合 mixed 日本語 text", "👍", "👍👍👍", "I ❤️ it", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "🇫🇷🇩🇪",
    "😂😂 lol", "skin 👋🏽 tone", "♥♦♣♠", "→ ← ↑ ↓", "math: ∑ ∫ √ ∞ ≠ ≤", "€100 £50 ¥1000 $5.99",
    "https://example.com/path?q=1&b=2#frag", "www.example.org", "mailto:someone@example.com", "@user hello @other_user",
    "#driverless #AI #self_driving", "RT @news: cars!", "<b>bold</b> <i>it</i>", "<script>alert('x')</script>",
    "&amp; &lt; &gt; &quot; &#39;", "<a href=\"x\">link</a>", "C:\\path\\to\\file.txt", "/usr/bin/env python3",
    "x = a + b * (c - d) / e", "{\"json\": [1, 2, 3]}", "tabs\tand\tspaces", "multiple   spaces   here",
    "line\nbreaks\nhere", "trailing space ", " leading space", "\u00a0non-breaking\u00a0space", "\u3000ideographic space",
    "12345", "3.14159", "1,000,000", "2026-11-28", "10:30pm", "+1 (555) 123-4567", "a1b2c3", "ALLCAPS", "MiXeD CaSe",
    "don't", "it's", "rock'n'roll", "o'clock", "‘curly’ “quotes”", "«guillemets»", "em—dash en–dash", "ellipsis…",
    "hyphen-ated-words", "under_score_words", "camelCaseWord", "a.b.c", "U.S.A.", "e.g. i.e. etc.",
    "\x00control\x01chars\x7f", "\ufffd replacement", "Google\u00d5\u00a2_\u0160\u00ce\u0081\u00d0s cars",
    "wordthatisreallyverylongandneverappearsinanyvocabularyatall", "a" * 300, "ha" * 200,
    "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
]

PIECES = [
    "good", "bad", "not", "love", "hate", "car", "driverless", "Google", "!!!", "?", "...", "😀", "😡", "👍", "❤️",
    "café", "naïve", "日本", "中文", "한국", "Привет", "ΣΟΦΙΑ", "مرحبا", "https://t.co/abc", "@someone", "#tag",
    "<br>", "&amp;", "123", "3.5", "   ", "\t", "\n", "can't", "soooo", "WOW", "é", "ß", "ﬁ", "—", "“", "”",
]


def hard_texts(count: int = 520, seed: int = 7) -> list[str]:
    """The hand-written cases, then random mixes of awkward pieces, then texts far over max_length."""
    rng = random.Random(seed)
    long_texts = [" ".join(rng.choice(PIECES) for _ in range(n)) for n in (150, 400, 1200)]
    texts = list(BASE)[:max(0, count - len(long_texts))]
    while len(texts) < count - len(long_texts):
        separator = rng.choice([" ", "", "  ", "\t", ", "])
        texts.append(separator.join(rng.choice(PIECES) for _ in range(rng.randint(1, 12))))
    return (texts + long_texts)[:count]
