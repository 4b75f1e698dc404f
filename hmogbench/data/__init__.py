"""Data preparation for the image sets of thesis 5.1 (see ``catalog.py`` for what each set is made of).

``prepare_dataset(name, raw_dir)`` writes ``results/data/<name>/{train,test}.npy`` plus a manifest;
``check_raw(raw_dir)`` reports, per set, whether its raw files are present and valid."""
