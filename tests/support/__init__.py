"""Helpers shared by the test packages: the isolated project, local servers, alert builders."""
