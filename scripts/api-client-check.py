"""A client generated from the served OpenAPI document works against the server.

Generates a Python client with openapi-python-client from /api/openapi.json,
then uses only the generated code (its models, enums and operations) to
create a customer, read it back by id and by code, and find it in a sorted
list. Run by scripts/api-contract, which starts the server.
"""

import argparse
import importlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path


def fail(message):
    print(f"generated client: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--generator", required=True, help="the openapi-python-client executable")
    parser.add_argument("--base", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--token", required=True, help="an API token of a user who may create customers")
    parser.add_argument("--work", required=True, help="a scratch directory")
    args = parser.parse_args()

    work = Path(args.work)
    document = work / "openapi.json"
    with urllib.request.urlopen(f"{args.base}/api/openapi.json") as answer:
        document.write_bytes(answer.read())
    output = work / "client"
    # The generator reads binary answers only as application/octet-stream;
    # this tells it the PDFs' application/pdf and the thumbnails'
    # image/jpeg, the export's application/zip and the reports' and lists'
    # text/csv are such answers.
    config = work / "client-config.json"
    overrides = {"application/pdf": "application/octet-stream", "image/jpeg": "application/octet-stream", "application/zip": "application/octet-stream", "text/csv": "application/octet-stream"}
    config.write_text(json.dumps({"content_type_overrides": overrides}))
    generated = subprocess.run(
        [args.generator, "generate", "--path", str(document), "--output-path", str(output), "--meta", "none", "--overwrite", "--config", str(config)],
        capture_output=True,
        text=True,
        # Its formatter (ruff) is installed beside it.
        env={**os.environ, "PATH": f"{Path(args.generator).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    print(generated.stdout, end="")
    print(generated.stderr, end="", file=sys.stderr)
    # The generator reports parts it could not read as warnings and still
    # exits 0: a warning means the document says something a client cannot use.
    if generated.returncode != 0 or "Warning" in generated.stdout + generated.stderr:
        fail("the generator did not read the whole document")

    sys.path.insert(0, str(work))
    package = importlib.import_module("client")
    models = importlib.import_module("client.models")
    customers = {name: importlib.import_module(f"client.api.customers.{name}") for name in ("create_customer", "get_customer", "list_customers")}

    client = package.AuthenticatedClient(base_url=f"{args.base}/api/v1", token=args.token, raise_on_unexpected_status=True)
    with client as client:
        body = models.CustomerInput(
            kind=models.CustomerKind.INDIVIDUAL,
            given_name="Ada",
            family_name="Generated",
            email="ada.generated@example.com",
            phone="+44 20 7946 0958",
            labels=["from-generated-client"],
        )
        created = customers["create_customer"].sync_detailed(client=client, body=body)
        if created.status_code != 201 or not isinstance(created.parsed, models.Customer):
            fail(f"create answered {created.status_code}: {created.content!r}")
        customer = created.parsed
        if customer.kind != models.CustomerKind.INDIVIDUAL or customer.status != models.CustomerStatus.ACTIVE:
            fail(f"created customer reads back as kind {customer.kind}, status {customer.status}")
        if customer.email != "ada.generated@example.com" or customer.phone != "+442079460958":
            fail(f"created customer's email and phone read back as {customer.email!r}, {customer.phone!r}")

        for reference in (str(customer.id), customer.code):
            read = customers["get_customer"].sync_detailed(reference, client=client)
            if read.status_code != 200 or not isinstance(read.parsed, models.Customer):
                fail(f"get {reference} answered {read.status_code}: {read.content!r}")
            if read.parsed.to_dict() != customer.to_dict():
                fail(f"get {reference} differs from what create returned:\n{json.dumps(read.parsed.to_dict(), default=str)}\n{json.dumps(customer.to_dict(), default=str)}")

        listed = customers["list_customers"].sync_detailed(client=client, q="Generated", sort=models.CustomerSort.VALUE_1, label="from-generated-client")
        if listed.status_code != 200 or listed.parsed is None:
            fail(f"list answered {listed.status_code}: {listed.content!r}")
        if [c.code for c in listed.parsed.items] != [customer.code]:
            fail(f"list found {[c.code for c in listed.parsed.items]}, not {customer.code}")

    print(f"generated client: created {customer.code} and read it back by id, by code and in a list")


if __name__ == "__main__":
    main()
