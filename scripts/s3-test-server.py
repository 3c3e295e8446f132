#!/usr/bin/env python3
"""Run an S3 protocol server for tests and local clusters: moto's server, on 127.0.0.1,
with request authentication on, an IAM user and a bucket made for the caller.

Usage: python3 scripts/s3-test-server.py [--port N] [--bucket NAME] [--region REGION] [--role NAME] [--no-auth]

moto (PyPI `moto[server]`) checks every request's AWS Signature Version 4 once its first
INITIAL_NO_AUTH_ACTION_COUNT requests are done. This script sets that count to 3 and
spends exactly those three requests on the IAM user (create the user, allow it s3:*, make
its access key); everything after, the bucket's creation included, must be signed with
that key, so a request signed wrongly is refused (403 SignatureDoesNotMatch) as AWS
would refuse it. With --role NAME two more go to a role of that name, allowed s3:*, that
the user may assume (sts:AssumeRole): credentials from AssumeRole then pass moto's checks,
session token included.

Binds 127.0.0.1 only, on --port (default 0: a free port), and prints one JSON line on
standard output once the bucket exists:
  {"endpoint": "http://127.0.0.1:PORT", "region": ..., "bucket": ...,
   "access_key_id": ..., "secret_access_key": ...[, "role_arn": ...]}
Runs until SIGTERM or SIGINT.
"""

import argparse
import json
import os
import signal
import sys
import threading

# moto reads this when it is imported: the three IAM calls below go through unsigned.
# --no-auth leaves authentication off: moto's access control cannot check presigned URLs
# (query-string authentication), so tests of download redirects use a server without it.
if "--no-auth" not in sys.argv:
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "5" if "--role" in sys.argv else "3"
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", default="prox")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--role", help="also make a role allowed s3:* that the user may assume")
    parser.add_argument("--no-auth", action="store_true", help="accept unsigned requests (presigned URLs)")
    args = parser.parse_args()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"

    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name=args.region,
        aws_access_key_id="setup", aws_secret_access_key="setup",
    )
    allow_s3 = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    })
    iam.create_user(UserName="prox")
    iam.put_user_policy(
        UserName="prox", PolicyName="prox-s3",
        PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:AssumeRole"] if args.role else "s3:*", "Resource": "*"}],
        }),
    )
    key = iam.create_access_key(UserName="prox")["AccessKey"]
    role_arn = None
    if args.role:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
        role_arn = iam.create_role(RoleName=args.role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=args.role, PolicyName="prox-s3", PolicyDocument=allow_s3)
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name=args.region,
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
    )
    if args.region == "us-east-1":
        s3.create_bucket(Bucket=args.bucket)
    else:
        s3.create_bucket(Bucket=args.bucket, CreateBucketConfiguration={"LocationConstraint": args.region})

    started = {
        "endpoint": endpoint, "region": args.region, "bucket": args.bucket,
        "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"],
    }
    if role_arn:
        started["role_arn"] = role_arn
    print(json.dumps(started), flush=True)

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
