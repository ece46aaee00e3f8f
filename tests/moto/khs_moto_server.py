"""moto_server for the khs deploy tests, with six fixes to moto 5.2.5's
CloudFormation where it departs from what AWS CloudFormation does.

Usage (as moto_server): python khs_moto_server.py -H 127.0.0.1 -p PORT

The deploy tests deploy a stack built with the library's own constructs
(Network, Bucket, Database, ApiService). Four moto bugs stop such a stack,
although AWS accepts it; each fix below makes moto behave as AWS does and is
applied only while the bug is present, so a moto release that fixes one
simply skips it (5 and 6 are one patch of ExecuteChangeSet: moto's exports
are made only by CreateStack):

1. AWS::KMS::Key with Tags: moto reads the KMS API's TagKey/TagValue from the
   template instead of CloudFormation's Key/Value, fails with KeyError, and
   every Fn::GetAtt to the key then reports "undefined resource".
2. AWS::RDS::DBParameterGroup: Ref returns moto's Python object instead of
   the group's name, so a DBInstance whose DBParameterGroupName is a Ref to
   the group fails with AttributeError.
3. AWS::EC2::RouteTable: DeleteStack never deletes route tables, so the VPC
   of any stack with a route table "has dependencies" and DeleteStack fails.
   AWS deletes the route table after its associations and routes.
4. Outputs after ExecuteChangeSet: moto builds a stack's outputs when the
   stack is made (empty for a CREATE change set) and never again, so
   DescribeStacks shows no outputs, and a deployment that reads another
   stack's outputs (the khs:parameter-sources of the edge split) finds none.
5. Exports after ExecuteChangeSet: moto registers a stack's exports only in
   CreateStack, so a stack made or updated through a change set exports
   nothing, and a stack made by CreateChangeSet cannot see any export, so
   an Fn::ImportValue fails ("No export named"). The fix registers the exports of the stack's new outputs (and drops the
   ones it no longer has) after each change set and lets the executed
   stack read the exports, as AWS does.
6. An export in use: AWS refuses an update that removes an export another
   stack imports ("Cannot delete export … as it is in use by …", the
   deadly embrace of aws-cdk issue 7602); moto accepts it. The fix refuses
   it, so the tests see what AWS would do.

Nothing else of moto is changed. It listens where the caller says (the tests
pass 127.0.0.1 only).
"""

import sys


def _fix_kms_key_tags():
    from moto.kms.models import Key

    original = Key.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        tags = props.get("Tags") or []
        if tags and all("Key" in t and "TagKey" not in t for t in tags):
            props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags]
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create)


def _fix_db_parameter_group_ref():
    from moto.rds.models import DBParameterGroup

    if "physical_resource_id" in dir(DBParameterGroup):
        return
    DBParameterGroup.physical_resource_id = property(lambda self: self.name)


def _fix_route_table_delete():
    from moto.ec2.models.route_tables import RouteTable

    if "delete" in RouteTable.__dict__ or not hasattr(
        RouteTable.delete_from_cloudformation_json, "__isabstractmethod__"
    ):
        return

    def delete(self, account_id, region_name):
        # CloudFormation has removed the associations (they depend on the
        # table) by the time the table goes; moto does not track them.
        self._associations.clear()
        self.ec2_backend.delete_route_table(self.id)

    RouteTable.delete = delete


def _fix_change_set_outputs():
    import inspect

    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set
    if "output_map" in inspect.getsource(original):
        return

    def execute(self, change_set_name, stack_name=None):
        original(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name),
            None,
        )
        stack = change_set and self.stacks.get(change_set.stack_id)
        if stack is not None:
            stack._parse_template()
            outputs = stack._create_output_map()
            try:
                list(outputs.values())
            except Exception:
                # moto cannot evaluate them (it loses a resource whose
                # create-only property changed): keep what it had.
                return
            stack.output_map = outputs
            _sync_exports(self, stack)

    CloudFormationBackend.execute_change_set = execute


def _literal_exports(template_body):
    """The literal export names of a JSON template body's outputs."""
    import json

    try:
        t = json.loads(template_body)
    except (TypeError, ValueError):
        return set()
    names = set()
    for o in (t.get("Outputs") or {}).values():
        name = (o.get("Export") or {}).get("Name")
        if isinstance(name, str):
            names.add(name)
    return names


def _imports_of(template_body):
    """The literal names a JSON template body imports."""
    import json

    try:
        t = json.loads(template_body)
    except (TypeError, ValueError):
        return set()
    out = set()

    def walk(v):
        if isinstance(v, dict):
            if len(v) == 1 and isinstance(v.get("Fn::ImportValue"), str):
                out.add(v["Fn::ImportValue"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(t)
    return out


def _sync_exports(backend, stack):
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        backend.exports.pop(name)
    try:
        for export in stack.exports:
            backend.exports[export.name] = export
    except Exception:
        pass


def _fix_exports_in_use():
    import inspect

    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set
    if "in use by" in inspect.getsource(original):
        return

    def execute(self, change_set_name, stack_name=None):
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name),
            None,
        )
        stack = change_set and self.stacks.get(change_set.stack_id)
        if stack is not None:
            # CreateChangeSet gives the stack no view of the exports: give
            # it the backend's, so that Fn::ImportValue resolves.
            stack.cross_stack_resources = self.exports
            stack.resource_map.cross_stack_resources = self.exports
        if stack is not None and change_set.change_set_type == "UPDATE":
            mine = {n for n, e in self.exports.items() if e.exporting_stack_id == stack.stack_id}
            gone = mine - _literal_exports(change_set.template)
            for other in self.stacks.values():
                if other.stack_id == stack.stack_id:
                    continue
                used = gone & _imports_of(other.template)
                if used:
                    name = sorted(used)[0]
                    raise ValidationError(
                        stack.name,
                        message=f"Cannot delete export {name} as it is in use by {other.name}",
                    )
        original(self, change_set_name, stack_name)

    CloudFormationBackend.execute_change_set = execute


def apply_fixes():
    _fix_kms_key_tags()
    _fix_db_parameter_group_ref()
    _fix_route_table_delete()
    _fix_change_set_outputs()
    _fix_exports_in_use()


if __name__ == "__main__":
    apply_fixes()
    from moto.server import main

    main(sys.argv[1:])
