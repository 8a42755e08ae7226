from rest_framework import serializers

from shop.kernel.http.serializers import StrictInputSerializer


class CredentialsSerializer(StrictInputSerializer):
    email = serializers.EmailField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
