"""moto_server for the khs deploy tests, with four fixes to moto 5.2.5's
CloudFormation where it departs from what AWS CloudFormation does.

Usage (as moto_server): python khs_moto_server.py -H 127.0.0.1 -p PORT

The deploy tests deploy a stack built with the library's own constructs
(Network, Bucket, Database, ApiService). Four moto bugs stop such a stack,
although AWS accepts it; each fix below makes moto behave as AWS does and is
applied only while the bug is present, so a moto release that fixes one
simply skips it:

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

    CloudFormationBackend.execute_change_set = execute


def apply_fixes():
    _fix_kms_key_tags()
    _fix_db_parameter_group_ref()
    _fix_route_table_delete()
    _fix_change_set_outputs()


if __name__ == "__main__":
    apply_fixes()
    from moto.server import main

    main(sys.argv[1:])
