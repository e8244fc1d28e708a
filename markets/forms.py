"""Admin forms for Kalshi credentials: the private key is write-only."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.views.decorators.debug import sensitive_variables

from markets.credentials import CredentialError, load_private_key, public_key_fingerprint
from markets.models import ApiCredential

MAX_KEY_FILE_BYTES = 16 * 1024


class SecretTextarea(forms.Textarea):
    """A textarea that never renders a value: a form sent back for any error must not echo a pasted key."""

    def format_value(self, value: Any) -> None:
        return None


class ApiCredentialForm(forms.ModelForm[ApiCredential]):
    """Takes a new key id and PEM (upload or paste); never renders the stored ones.

    On an existing credential every secret field may be left blank to keep
    what is stored. A new key is parsed before it is saved, so a bad file is
    reported on the form and the stored key is left untouched.
    """

    new_key_id = forms.CharField(
        label="Key id",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 40}),
        help_text="The API key id (a UUID) shown by Kalshi next to the key.",
    )
    private_key_file = forms.FileField(
        label="Private key file",
        required=False,
        help_text="The .pem / .key file Kalshi gave you when you created the key.",
    )
    private_key_pem = forms.CharField(
        label="…or paste the private key",
        required=False,
        strip=True,
        widget=SecretTextarea(attrs={"rows": 4, "cols": 64, "autocomplete": "off", "spellcheck": "false"}),
        help_text="Not shown again if the form has an error: paste it again.",
    )

    class Meta:
        model = ApiCredential
        fields = ["name", "environment", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            keep = "Leave blank to keep the stored value."
            self.fields["new_key_id"].help_text = f"Stored: {self.instance.masked_key_id}. {keep}"
            self.fields["private_key_file"].help_text = f"Stored key {self.instance.public_key_fingerprint}. {keep}"

    def clean_new_key_id(self) -> str:
        key_id = str(self.cleaned_data.get("new_key_id") or "").strip()
        if not key_id:
            return ""
        try:
            return str(uuid.UUID(key_id))
        except ValueError:
            raise forms.ValidationError(
                "The key id Kalshi shows is a UUID, such as a952bcbe-ec3b-4b5b-b8f9-11b1c6e2c7a1."
            ) from None

    @sensitive_variables("pem")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        pem = self._submitted_pem(cleaned)
        creating = not self.instance.pk
        if creating and not cleaned.get("new_key_id"):
            self.add_error("new_key_id", "A new credential needs its key id.")
        if creating and pem is None and not self.has_error("private_key_file"):
            self.add_error("private_key_file", "A new credential needs its private key (upload or paste).")
        if pem is not None:
            try:
                key = load_private_key(pem, source="The submitted private key")
            except CredentialError as exc:
                field = "private_key_file" if cleaned.get("private_key_file") else "private_key_pem"
                self.add_error(field, str(exc))
            else:
                cleaned["_pem"] = pem.decode("utf-8").strip()
                cleaned["_fingerprint"] = public_key_fingerprint(key)
        return cleaned

    @sensitive_variables("pem")
    def _submitted_pem(self, cleaned: dict[str, Any]) -> bytes | None:
        upload = cleaned.get("private_key_file")
        pasted = cleaned.get("private_key_pem")
        if upload and pasted:
            self.add_error("private_key_pem", "Upload a file or paste the key, not both.")
            return None
        if upload:
            if upload.size > MAX_KEY_FILE_BYTES:
                self.add_error("private_key_file", f"Too large for a key file ({upload.size} bytes).")
                return None
            return bytes(upload.read())
        return pasted.encode("utf-8") if pasted else None

    def save(self, commit: bool = True) -> ApiCredential:
        credential = super().save(commit=False)
        if self.cleaned_data.get("new_key_id"):
            credential.key_id = self.cleaned_data["new_key_id"].strip()
        if "_pem" in self.cleaned_data:
            credential.private_key = self.cleaned_data["_pem"]
            credential.public_key_fingerprint = self.cleaned_data["_fingerprint"]
        if commit:
            credential.save()
        return credential
