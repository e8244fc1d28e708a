"""Admin forms for weather providers' keys: write-only."""

from __future__ import annotations

from typing import Any

from django import forms

from kalshiweb.masking import mask_tail
from weather.models import WeatherApiKey


class WeatherApiKeyForm(forms.ModelForm[WeatherApiKey]):
    """Takes a new key; never renders the stored one. Blank on an existing key keeps it."""

    new_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 50}),
    )

    class Meta:
        model = WeatherApiKey
        fields = ["provider", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["new_key"].help_text = f"Stored: {mask_tail(self.instance.api_key)}. Leave blank to keep it."

    def clean_new_key(self) -> str:
        key = str(self.cleaned_data.get("new_key") or "")
        if not self.instance.pk and not key:
            raise forms.ValidationError("Enter the provider's API key.")
        if key and (len(key) < 8 or any(ch.isspace() for ch in key)):
            raise forms.ValidationError("That does not look like an API key (too short, or contains spaces).")
        return key

    def save(self, commit: bool = True) -> WeatherApiKey:
        key = super().save(commit=False)
        if self.cleaned_data.get("new_key"):
            key.api_key = self.cleaned_data["new_key"]
        if commit:
            key.save()
        return key
