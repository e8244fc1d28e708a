"""The fault drill: the product trading against the local exchange while seeded faults hit it, then audited.

``manage.py faultdrill`` puts the pieces together; the fault tests
(trading.tests.test_faults) use the same ones:

- ``database``: a throwaway SQLite database with the migrations applied, so a
  drill never touches the configured one;
- ``world``: events, brackets and predictions in that database;
- ``venue``: the local exchange served on loopback, its makers, our real client
  signed in to it, and the product's feed listening to it;
- ``schedule``: fault rates drawn from the seed, phase after phase;
- ``run``: the loop of trading cycles, feed records and reconciliations;
- ``checks`` (pure) and ``audit``: the four counts that must be zero;
- ``report``: what a person reads.
"""
