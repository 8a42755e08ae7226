"""Input serializers shared by every context's HTTP layer."""

from collections.abc import Mapping

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """
    Refuses fields it does not declare (400 naming them), so that a client cannot mass-assign a
    price, a status or an owner by adding it to the body; the schema says
    ``additionalProperties: false`` (``shop.kernel.http.schema.StrictInputSchema``). Its text
    fields take JSON strings only: DRF's would turn ``42`` into ``"42"``.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is not accepted here."] for name in unknown}
                )
            not_text = [
                name
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and data.get(name) is not None
                and not isinstance(data.get(name), str)
            ]
            if not_text:
                raise serializers.ValidationError({name: ["A string is required."] for name in not_text})
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer that must be a JSON integer: not a string, a float, a boolean or an exponent."""

    default_error_messages = {"invalid": "A whole number is required (a JSON integer)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as a string; DRF's own field would also take an integer."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)
