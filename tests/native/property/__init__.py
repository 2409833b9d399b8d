"""Generated policies and jobs for :mod:`tests.native.test_property`.

The shipped policies use only the options someone wrote a case for, so an option
whose native schema was forgotten would pass every other test. This package
generates what those tests hold the native fast path to:

* :mod:`.policies`: policies whose rules come from the policy format's own JSON
  Schema, every option of every rule kind, with values steered by :mod:`.options`;
* :mod:`.jobs`: corpus jobs with a few edits of the spec's fields (:mod:`.fields`:
  which fields there are, and the values they are edited to);
* :mod:`.reads`: which fields a rule's check reads, found by running it;
* :mod:`.targeting`: edits aimed at those fields, with values taken from the rules,
  and the jobs a test reviews under a set of policies.
"""
