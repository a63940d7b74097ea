"""Blotter dashboard: a Streamlit app over the published marts (see ``dashboard/app.py``)."""
