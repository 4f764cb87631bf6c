package main

// The table's attribute and index names, as the DynamoDB store adapter
// writes them.
const (
	AttrPK     = "PK"
	AttrSK     = "SK"
	AttrGSI1PK = "GSI1PK"
	AttrGSI1SK = "GSI1SK"
	AttrGSI2PK = "GSI2PK"
	AttrGSI2SK = "GSI2SK"
	AttrTTL    = "ttl"
	IndexGSI1  = "gsi1"
	IndexGSI2  = "gsi2"
)
