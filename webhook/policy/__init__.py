"""Platform-team policies: the file format, loading, built-in rules, CEL, defaults.

``model`` is the file format, ``load`` reads and compiles files into a
``compiled.PolicySet``, ``rules`` holds the built-in rule kinds, ``defaults``
builds the org defaults' JSON Patch, ``update`` the UPDATE semantics, ``lint``
and ``testing`` back the ``policy lint`` and ``test`` commands.
"""
