"""Documents on paper: bilingual PDFs made from templates in process (pdf.py), filled from a
case with what each kind may show (content.py)."""
