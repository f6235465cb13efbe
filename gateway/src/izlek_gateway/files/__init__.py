"""Files the gateway hands out: the action-plan tracking table as XLSX or CSV (`tracking_table`), and the
auditor's report workbook of a plan or of a published report (`report_workbook`), read from the read models
through the same views as GraphQL (``asOf``, ``validAt``, partner-app scopes). Routes in `routes`."""

from izlek_gateway.files.routes import files_router

__all__ = ["files_router"]
