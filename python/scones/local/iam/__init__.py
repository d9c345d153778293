"""IAM enforced by the emulator (`LocalAWS(enforce_iam=True)`, on under `scones local up`).

`authorizer.py`: who a request acts as (a role session whose keys came from moto's STS backend,
or the admin) and the check; `policies.py`: IAM's decision over the role's policies, on moto's
statement matching; `calls.py`: the IAM action and resource ARN of each HTTP call checked;
`denials.py`: AccessDenied as each service sends it; `middleware.py`: the WSGI check in front
of moto; `credentials.py`: the caller behind an access key, with its secret (API Gateway
verifies signatures with it); `resource_policies.py`: resource-based policies (`Principal`),
which API Gateway's data plane evaluates. The in-process paths check through the same
`Authorizer`: Step Functions' Lambda shortcut (`speedups.py`), the Lambda runtime's log delivery
and the model server's artifact reads and capture writes.
"""
