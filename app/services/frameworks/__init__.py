"""Career frameworks: file formats, validation, storage, versions and publishing."""
