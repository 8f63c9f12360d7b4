"""broadsheet: news pages in, deduplicated articles out, as markdown and SQLite."""

import os

# numpy's OpenBLAS starts a thread for each core when it loads, and they spin for a
# while: about 0.1 s of CPU at every launch, taken from the extraction workers. What
# broadsheet asks of numpy (MinHash arithmetic, the language model's one product of a
# vector and a matrix a page) gains nothing from threads, and its parallelism is its
# own worker processes: one BLAS thread is enough. Set before numpy is first imported;
# a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
