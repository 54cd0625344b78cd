"""Made-up tweets for tests that must not need the real corpus: a small grammar, seeded, with the mess real
tweets have (HTML entities, URLs, @mentions, capitals, punctuation, duplicates, too-short lines)."""
from __future__ import annotations

import random

SUBJECTS = ["i", "we", "my sister", "my best friend", "everyone", "the kids", "my mom", "you"]
VERBS = ["love", "hate", "miss", "want", "need", "can't wait for", "just watched", "am going to"]
THINGS = ["the beach", "this song", "coffee", "the new movie", "summer", "my phone", "the weekend", "pizza",
          "the game tonight", "sleep", "school", "that show", "the rain", "my dog", "chocolate", "the concert"]
TAILS = ["so much", "right now", "today", "again", "with my friends", "all day", "this morning", "tonight",
         "before work", "after class", "for real", "lol", "haha", "so bad", "more than anything"]
EXTRAS = ["&quot;yes&quot;", "&amp; more", "http://t.co/abc{n}", "@user{n}", "!!!", ":)", "www.example.com/{n}"]


def synthetic_tweets(n: int, seed: int = 0) -> list[str]:
    """`n` raw lines, about 3% duplicates and 2% too short to use."""
    rng = random.Random(seed)
    lines: list[str] = []
    while len(lines) < n:
        roll = rng.random()
        if roll < 0.03 and lines:
            lines.append(rng.choice(lines))
        elif roll < 0.05:
            lines.append(rng.choice(["ok", "lol", "good night"]))
        else:
            words = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(THINGS), rng.choice(TAILS)]
            if rng.random() < 0.5:
                words += ["and", rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(THINGS)]
            if rng.random() < 0.3:
                words.insert(rng.randrange(len(words) + 1), rng.choice(EXTRAS).format(n=rng.randrange(100)))
            text = " ".join(words)
            lines.append(text.capitalize() if rng.random() < 0.3 else text)
    return lines
