"""Google Ads Customer Match: user lists and offline user data jobs that load hashed e-mails into them."""

from __future__ import annotations

import re

from adflux.sandbox.google.protocol import CID, GoogleProtocol, V
from adflux.sandbox.http import ApiError, Request, Response, json_response, route


class GoogleCustomerMatch(GoogleProtocol):
    """userLists:mutate and offlineUserDataJobs:{create,addOperations,run}."""

    @route("POST", rf"{V}/customers/{CID}/userLists:mutate")
    def mutate_user_lists(self, request: Request, version: str, cid: str) -> Response:
        results = []
        for operation in request.json().get("operations", []):
            create = operation.get("create") or {}
            if not create.get("name"):
                raise ApiError(
                    "validation", "name is required", extra={"error_code": {"requiredError": "REQUIRED"}}
                )
            if any(obj["name"] == create["name"] for obj in self._objects("user_list", cid)):
                raise ApiError(
                    "validation",
                    "A user list with this name already exists.",
                    extra={"error_code": {"userListError": "NAME_ALREADY_USED"}},
                )
            new_id = self.state.ids.google()
            resource = f"customers/{cid}/userLists/{new_id}"
            self.state.add(
                self.platform,
                "user_list",
                {
                    **create,
                    "id": new_id,
                    "resourceName": resource,
                    "_cid": cid,
                    "_kind": "user_list",
                    "_hashes": set(),
                    "status": "ENABLED",
                },
            )
            results.append({"resourceName": resource})
        return json_response({"results": results})

    @route("POST", rf"{V}/customers/{CID}/offlineUserDataJobs:create")
    def create_job(self, request: Request, version: str, cid: str) -> Response:
        job = request.json().get("job") or {}
        user_list = (job.get("customerMatchUserListMetadata") or {}).get("userList", "")
        if self._by_name("user_list", user_list) is None:
            raise ApiError(
                "validation",
                "The user list does not exist.",
                extra={"error_code": {"offlineUserDataJobError": "INVALID_USER_LIST_ID"}},
            )
        new_id = self.state.ids.google()
        resource = f"customers/{cid}/offlineUserDataJobs/{new_id}"
        self.state.add(
            self.platform,
            "offline_job",
            {
                "id": new_id,
                "resourceName": resource,
                "_cid": cid,
                "userList": user_list,
                "status": "PENDING",
                "_hashes": [],
            },
        )
        return json_response({"resourceName": resource})

    @route("POST", rf"{V}/customers/{CID}/offlineUserDataJobs/(?P<job_id>\d+):addOperations")
    def add_operations(self, request: Request, version: str, cid: str, job_id: str) -> Response:
        job = self.state.get(self.platform, "offline_job", job_id)
        if job is None:
            raise ApiError("not_found", "Job not found.", status=404)
        for operation in request.json().get("operations", []):
            for identifier in (operation.get("create") or {}).get("userIdentifiers", []):
                digest = identifier.get("hashedEmail", "")
                if not re.fullmatch(r"[0-9a-f]{64}", digest):
                    raise ApiError(
                        "validation",
                        "Hashed email must be a lowercase SHA-256 hex digest.",
                        extra={"error_code": {"offlineUserDataJobError": "INVALID_SHA256_FORMAT"}},
                    )
                job["_hashes"].append(digest)
        return json_response({})

    @route("POST", rf"{V}/customers/{CID}/offlineUserDataJobs/(?P<job_id>\d+):run")
    def run_job(self, request: Request, version: str, cid: str, job_id: str) -> Response:
        job = self.state.get(self.platform, "offline_job", job_id)
        if job is None:
            raise ApiError("not_found", "Job not found.", status=404)
        user_list = self._by_name("user_list", job["userList"])
        if user_list is not None:
            user_list["_hashes"].update(job["_hashes"])
        job["status"] = "SUCCESS"
        return json_response({"name": f"customers/{cid}/operations/{self.state.ids.google()}", "done": True})
