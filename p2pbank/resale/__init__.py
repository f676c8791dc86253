"""The secondary market: lenders sell whole loan parts to other lenders."""
