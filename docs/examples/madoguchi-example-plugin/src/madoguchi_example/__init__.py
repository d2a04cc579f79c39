"""An example Madoguchi plugin: 和暦 dates and chat notices for service tasks.

The hooks are in :mod:`madoguchi_example.plugin`; the work they do is in
:mod:`madoguchi_example.wareki` and :mod:`madoguchi_example.chat`, which know nothing about
Madoguchi and are tested on their own.
"""
