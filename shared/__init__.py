"""The product's common package: settings, the event envelope and payloads, messaging, auth, errors."""
