"""The prediction API: a Lambda handler behind API Gateway (prediction_api.py)."""
