"""AWS clients: Ground Truth labeling jobs and SageMaker endpoints."""
