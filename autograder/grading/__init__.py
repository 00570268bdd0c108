"""Grading one submission: read and restore it, run it in a kernel, probe each function, judge outside.

``judge`` drives one submission; ``submission`` reads and rewrites the notebook;
``probe`` and ``codec`` are what crosses into the kernel and back; ``cases`` and
``reference`` (with ``refserver``, its bounded process) say what is expected;
``wording``, ``fingerprints`` (the classic mistakes) and ``feedback`` say it to the
student; ``incell`` runs the hidden tests inside the instructor's own notebook.
"""
