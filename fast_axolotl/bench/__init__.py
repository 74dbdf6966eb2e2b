"""The benchmarks: `fast-axolotl bench` runs every `bench_*.py` here into one Markdown report
(BENCHMARK.md); each also runs alone, `python -m fast_axolotl.bench.bench_pad --help`.

They ship with the package and make their data at run time (harness.py times, checks and
reports; corpus.py, axolotl_data.py, real_tokenizers.py and the *_case.py modules make the
inputs), so they run from an installed wheel. Baselines that need more than the package
(Axolotl and torch, the `bench` extra, fast-axolotl 0.2.0 in its own venv) are optional: a
missing one is a row that says so. verify_tokenizer.py, demo_preprocess.py and
profile_preprocess.py are tools of their own, not run by `fast-axolotl bench`.
"""
