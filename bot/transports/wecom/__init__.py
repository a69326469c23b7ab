"""WeCom (企业微信) for the staff side: the only package that knows WeCom.

* ``aibot``: the intelligent bot (callback mode) — staff commands and private flows;
* ``hook``: group robot webhooks — one-way alerts and digests into internal groups;
* ``customer``: notices into customer groups through 客户联系 group-send tasks;
* ``crypto``: the callback encryption; ``api``: HTTP, errcodes and access tokens.
"""
