"""Programmes, their partners and funders, and their curriculum modules."""
